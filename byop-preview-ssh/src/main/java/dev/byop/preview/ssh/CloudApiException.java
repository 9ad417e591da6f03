package dev.byop.preview.ssh;

/**
 * A cloud provider's API answered with an error or could not be reached; carries the provider, the request (method
 * and path, never a credential), the HTTP status (0 when no answer came) and the provider's error code.
 */
public class CloudApiException extends SshException {

  private static final long serialVersionUID = 1L;
  private final String provider;
  private final int status;
  private final String errorCode;

  public CloudApiException(String provider, String method, String path, int status, String errorCode, String message) {
    super(label(provider) + " API " + method + " " + path + (status == 0 ? " failed" : " failed with HTTP " + status)
        + (errorCode.isEmpty() ? "" : " " + errorCode) + ": " + message);
    this.provider = provider;
    this.status = status;
    this.errorCode = errorCode;
  }

  public CloudApiException(String provider, String method, String path, String message, Throwable cause) {
    super(label(provider) + " API " + method + " " + path + " failed: " + message, cause);
    this.provider = provider;
    this.status = 0;
    this.errorCode = "";
  }

  private static String label(String provider) {
    return switch (provider) {
      case "ovh" -> "OVH";
      case "hetzner" -> "Hetzner Cloud";
      default -> provider;
    };
  }

  /** The provider's id, e.g. {@code ovh} or {@code hetzner}. */
  public String provider() {
    return provider;
  }

  /** The HTTP status, or 0 when the API gave no answer (unreachable, timed out). */
  public int status() {
    return status;
  }

  /** The provider's error code (OVH's {@code errorCode}, Hetzner's {@code error.code}), or empty. */
  public String errorCode() {
    return errorCode;
  }
}
