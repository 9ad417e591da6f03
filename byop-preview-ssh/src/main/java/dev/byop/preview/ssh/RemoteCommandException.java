package dev.byop.preview.ssh;

import java.util.List;

/** A remote command exited non-zero or timed out; carries the argument list, exit code and the tail of its stderr. */
public final class RemoteCommandException extends SshException {

  private static final long serialVersionUID = 1L;
  private final String host;
  private final List<String> argv;
  private final int exitCode;
  private final String stderrTail;

  public RemoteCommandException(String host, List<String> argv, int exitCode, String stderrTail) {
    super("remote command " + argv + " on " + host + (exitCode < 0 ? " did not finish" : " exited " + exitCode)
        + (stderrTail.isBlank() ? "" : ": " + stderrTail.strip()));
    this.host = host;
    this.argv = List.copyOf(argv);
    this.exitCode = exitCode;
    this.stderrTail = stderrTail;
  }

  public String host() {
    return host;
  }

  public List<String> argv() {
    return argv;
  }

  /** Exit status, or -1 when the command did not report one (timeout, channel lost). */
  public int exitCode() {
    return exitCode;
  }

  public String stderrTail() {
    return stderrTail;
  }
}
