package dev.byop.core.internal;

import java.time.Duration;

/** Durations written the way configuration reads them ({@code 500ms}, {@code 30s}, {@code 5m}). */
public final class Durations {
  private Durations() { }

  public static String human(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0 && ms > 0) return ms / 3_600_000 + "h";
    if (ms % 60_000 == 0 && ms > 0) return ms / 60_000 + "m";
    if (ms % 1000 == 0 && ms > 0) return ms / 1000 + "s";
    return ms + "ms";
  }
}
