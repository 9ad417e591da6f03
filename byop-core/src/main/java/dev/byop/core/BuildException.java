package dev.byop.core;

import java.util.List;
import org.jspecify.annotations.Nullable;

/** Fetching source or building an image failed; carries the failing step, its exit code and the log tail. */
public class BuildException extends ByopException {
  private static final long serialVersionUID = 1L;
  private final @Nullable String step;
  private final @Nullable Integer exitCode;
  private final List<String> logTail;

  public BuildException(String message, @Nullable String step, @Nullable Integer exitCode, List<String> logTail,
      @Nullable Throwable cause) {
    super(message, cause);
    this.step = step;
    this.exitCode = exitCode;
    this.logTail = List.copyOf(logTail);
  }

  public BuildException(String message) {
    this(message, null, null, List.of(), null);
  }

  public BuildException(String message, Throwable cause) {
    this(message, null, null, List.of(), cause);
  }

  /** The step that failed (e.g. {@code [build 3/4] RUN make}), or null when not step-specific. */
  public @Nullable String step() {
    return step;
  }

  /** The exit code of the failing command, when known. */
  public @Nullable Integer exitCode() {
    return exitCode;
  }

  /** The last log lines before the failure. */
  public List<String> logTail() {
    return logTail;
  }
}
