package dev.byop.core.spi;

import dev.byop.core.CancelledException;

/** Tells long-running provider work that it should stop: poll {@link #isCancelled()} or register a callback. */
public interface Cancellation {
  boolean isCancelled();

  /**
   * Runs {@code action} once when cancelled (at once, on this thread, if already cancelled).
   *
   * @return a handle that unregisters the action; close it when the work it protects is over
   */
  AutoCloseable onCancel(Runnable action);

  /** The reason given when cancelling (e.g. {@code cancelled by user}, {@code timed out after PT30M}). */
  String reason();

  default void throwIfCancelled() {
    if (isCancelled()) throw new CancelledException(reason());
  }

  /** A cancellation that never fires. */
  static Cancellation none() {
    return new Cancellation() {
      @Override
      public boolean isCancelled() {
        return false;
      }

      @Override
      public AutoCloseable onCancel(Runnable action) {
        return () -> { };
      }

      @Override
      public String reason() {
        return "";
      }
    };
  }
}
