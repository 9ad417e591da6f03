package dev.byop.core;

/** The work was cancelled by the caller; the job or preview ends CANCELLED or STOPPED, not FAILED. */
public class CancelledException extends ByopException {
  private static final long serialVersionUID = 1L;

  public CancelledException(String message) {
    super(message);
  }
}
