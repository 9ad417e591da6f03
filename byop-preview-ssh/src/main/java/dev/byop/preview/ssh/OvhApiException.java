package dev.byop.preview.ssh;

/** The OVH API answered with an error; carries the HTTP status, OVH's error code and the request (method and path). */
public final class OvhApiException extends CloudApiException {

  private static final long serialVersionUID = 1L;

  public OvhApiException(String method, String path, int status, String errorCode, String message) {
    super("ovh", method, path, status, errorCode, message);
  }
}
