package dev.byop.core;

/** The store failed or refused an operation (lost lease, concurrent change, database error). */
public class StoreException extends ByopException {
  private static final long serialVersionUID = 1L;

  public StoreException(String message) {
    super(message);
  }

  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
