package dev.byop.preview.compose;

import java.util.List;

/**
 * What a command on a {@link PreviewHost} ended with.
 *
 * @param exitCode the exit code
 * @param output the output lines, stdout and stderr interleaved as they came
 */
public record CommandResult(int exitCode, List<String> output) {
  public CommandResult {
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
