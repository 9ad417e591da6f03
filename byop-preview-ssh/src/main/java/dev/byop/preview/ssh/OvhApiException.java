package dev.byop.preview.ssh;

/** The OVH API answered with an error; carries the HTTP status, OVH's error code and the request (method and path). */
public final class OvhApiException extends SshException {

  private static final long serialVersionUID = 1L;
  private final int status;
  private final String errorCode;

  public OvhApiException(String method, String path, int status, String errorCode, String message) {
    super("OVH API " + method + " " + path + " failed with HTTP " + status + (errorCode.isEmpty() ? "" : " " + errorCode) + ": " + message);
    this.status = status;
    this.errorCode = errorCode;
  }

  public int status() {
    return status;
  }

  /** OVH's {@code errorCode} (e.g. {@code INVALID_SIGNATURE}), or empty. */
  public String errorCode() {
    return errorCode;
  }
}
