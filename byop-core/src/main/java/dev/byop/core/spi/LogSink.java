package dev.byop.core.spi;

/** Receives a job's log, one complete line at a time (no trailing newline); must be thread-safe. */
@FunctionalInterface
public interface LogSink {
  void line(String text);

  /** A sink that drops everything. */
  static LogSink discard() {
    return text -> { };
  }
}
