package dev.byop.testing;

/** Thrown when the byop test bed, or the part of it a test needs, is not up; the message says how to start it. */
public final class TestbedUnavailableException extends IllegalStateException {

  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the file or peer and the fix. */
  public TestbedUnavailableException(String message) {
    super(message);
  }

  /** Creates the exception with a message naming the file or peer and the fix, and its cause. */
  public TestbedUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
