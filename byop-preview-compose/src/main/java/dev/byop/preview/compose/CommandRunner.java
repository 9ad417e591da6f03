package dev.byop.preview.compose;

import dev.byop.core.spi.LogSink;
import java.time.Duration;
import java.util.List;

/**
 * Runs a command given as an argument list on the host where previews run (a local process, or a line over SSH
 * quoted by the SSH deployer's one tested function). Routers that need the host's Docker (Traefik) use it, so the
 * same router works for the local and the remote deployer.
 */
@FunctionalInterface
public interface CommandRunner {
  /**
   * Runs {@code argv} to completion, passing each output line (stdout and stderr) to {@code output} as it comes.
   * Output is the user's (a preview's containers, a build): implementations cut each line at
   * {@link dev.byop.core.internal.BoundedReads#MAX_LINE_BYTES} with a visible marker and keep at most
   * {@link dev.byop.core.internal.BoundedReads#MAX_LINES} lines in the result.
   *
   * @throws dev.byop.core.PreviewException when the command cannot be started or runs longer than {@code timeout}
   */
  Result run(List<String> argv, LogSink output, Duration timeout);

  /**
   * @param exitCode the exit code
   * @param output the output lines, stdout and stderr interleaved as they came
   */
  record Result(int exitCode, List<String> output) {
    public Result {
      output = List.copyOf(output);
    }

    public boolean ok() {
      return exitCode == 0;
    }

    /** The last {@code n} lines joined with newlines, for error messages. */
    public String tail(int n) {
      return String.join("\n", output.subList(Math.max(0, output.size() - n), output.size()));
    }
  }
}
