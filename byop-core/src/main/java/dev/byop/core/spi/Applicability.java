package dev.byop.core.spi;

/** Whether a provider can serve a configuration, and if not, why (shown when no provider fits). */
public record Applicability(boolean applicable, String reason) {
  private static final Applicability YES = new Applicability(true, "applicable");

  public static Applicability yes() {
    return YES;
  }

  public static Applicability no(String reason) {
    return new Applicability(false, reason);
  }
}
