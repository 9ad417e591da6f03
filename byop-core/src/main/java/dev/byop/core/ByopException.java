package dev.byop.core;

/**
 * Root of every exception byop throws; unchecked, with one subclass per area so callers can catch narrowly.
 */
public class ByopException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ByopException(String message) {
    super(message);
  }

  public ByopException(String message, Throwable cause) {
    super(message, cause);
  }
}
