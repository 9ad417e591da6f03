package dev.byop.preview.compose;

import java.util.List;

/**
 * Test-only remnant of the command runner byop-preview-compose had, for the two test files of this module that
 * another change owns ({@code CliImageBuilder}, through {@code internal.ProcessRunner}). The library runs commands
 * with {@link PreviewHost#run}; delete this with those uses.
 */
public interface CommandRunner {
  /** What {@code ProcessRunner.run} returns: {@link CommandResult} under its old name. */
  record Result(int exitCode, List<String> output) {
    public boolean ok() {
      return exitCode == 0;
    }

    public String tail(int n) {
      return new CommandResult(exitCode, output).tail(n);
    }
  }
}
