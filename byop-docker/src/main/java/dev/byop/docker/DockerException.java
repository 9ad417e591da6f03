package dev.byop.docker;

import org.jspecify.annotations.Nullable;

/**
 * A Docker Engine call failed: the engine answered an HTTP error, reported an error inside a progress stream, or
 * could not be reached ({@link #status()} is then 0).
 */
public class DockerException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;
  private final String engineMessage;

  public DockerException(int status, String engineMessage, String message, @Nullable Throwable cause) {
    super(message, cause);
    this.status = status;
    this.engineMessage = engineMessage;
  }

  public DockerException(int status, String engineMessage, String message) {
    this(status, engineMessage, message, null);
  }

  /** The HTTP status the engine answered, 0 when there was no HTTP answer, 200 for an error in a stream. */
  public int status() {
    return status;
  }

  /** The engine's own message (its JSON {@code message} or {@code errorDetail.message}). */
  public String engineMessage() {
    return engineMessage;
  }

  /** True for HTTP 404 (no such image, container...). */
  public boolean isNotFound() {
    return status == 404;
  }
}
