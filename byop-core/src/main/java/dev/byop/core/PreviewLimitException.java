package dev.byop.core;

/** An app already has as many previews that are not stopped as {@code preview.maxPerApp} allows. */
public class PreviewLimitException extends PreviewException {
  private static final long serialVersionUID = 1L;
  private final String appId;
  private final int limit;

  public PreviewLimitException(String appId, int active, int limit) {
    super("app " + appId + " already has " + active + " previews that are not stopped; the limit is " + limit
        + " (preview.maxPerApp)");
    this.appId = appId;
    this.limit = limit;
  }

  /** The app at its limit. */
  public String appId() {
    return appId;
  }

  /** The configured {@code preview.maxPerApp}. */
  public int limit() {
    return limit;
  }
}
