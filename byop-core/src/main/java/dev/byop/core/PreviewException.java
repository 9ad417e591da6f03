package dev.byop.core;

/** Deploying, routing or tearing down a preview failed. */
public class PreviewException extends ByopException {
  private static final long serialVersionUID = 1L;

  public PreviewException(String message) {
    super(message);
  }

  public PreviewException(String message, Throwable cause) {
    super(message, cause);
  }
}
