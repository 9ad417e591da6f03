package dev.byop.preview.ssh;

/** No instance has room for a preview and the cap on instances ({@code cloud.maxInstances}) forbids another. */
public final class CloudCapException extends SshException {

  private static final long serialVersionUID = 1L;
  private final String provider;
  private final int cap;

  public CloudCapException(String provider, String previewId, int instances, int cap, String waited) {
    super("no " + provider + " instance has room for preview " + previewId + " within " + waited + ": " + instances
        + " instances with byop's marker are full or being made, and cloud.maxInstances is " + cap);
    this.provider = provider;
    this.cap = cap;
  }

  public String provider() {
    return provider;
  }

  /** The configured {@code cloud.maxInstances}. */
  public int cap() {
    return cap;
  }
}
