package dev.byop.preview.ssh;

import dev.byop.core.PreviewException;

/** Root of the errors raised by the SSH preview module (connection, host key, remote command, transfer). */
public class SshException extends PreviewException {

  private static final long serialVersionUID = 1L;

  public SshException(String message) {
    super(message);
  }

  public SshException(String message, Throwable cause) {
    super(message, cause);
  }
}
