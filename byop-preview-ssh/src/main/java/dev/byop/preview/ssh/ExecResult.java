package dev.byop.preview.ssh;

/**
 * Outcome of one remote command.
 *
 * @param exitCode exit status reported by the remote side
 * @param stdout collected standard output (empty when it was streamed to a line sink)
 * @param stderrTail the last few kilobytes of standard error
 */
record ExecResult(int exitCode, String stdout, String stderrTail) {

  /** True when the command exited 0. */
  public boolean ok() {
    return exitCode == 0;
  }
}
