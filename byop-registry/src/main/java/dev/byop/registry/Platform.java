package dev.byop.registry;

import org.jspecify.annotations.Nullable;

/** The platform an index entry is for, e.g. {@code linux/amd64}. */
public record Platform(String os, String architecture, @Nullable String variant) {
  public static Platform of(String os, String architecture) {
    return new Platform(os, architecture, null);
  }

  @Override
  public String toString() {
    return os + "/" + architecture + (variant == null ? "" : "/" + variant);
  }
}
