package dev.byop.core.spi;

/**
 * Whether a provider can serve a configuration, and why: the reason it cannot (shown when no provider fits), or what
 * it found that it will use (shown in the provider report, e.g. which Docker endpoint and how it was found).
 */
public record Applicability(boolean applicable, String reason) {
  private static final Applicability YES = new Applicability(true, "applicable");

  public static Applicability yes() {
    return YES;
  }

  /** Applicable, with what it will use, e.g. {@code engine unix:///run/user/1000/docker.sock (rootless socket)}. */
  public static Applicability yes(String detail) {
    return new Applicability(true, detail);
  }

  public static Applicability no(String reason) {
    return new Applicability(false, reason);
  }
}
