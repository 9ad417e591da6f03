package dev.byop.preview.local.internal;

import dev.byop.core.spi.Cancellation;
import dev.byop.core.spi.LogSink;
import dev.byop.preview.compose.CommandResult;
import dev.byop.preview.compose.CommandRunner;
import dev.byop.preview.local.LocalHost;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Test-only: the old process runner's signature over {@link LocalHost#run}, for {@code CliImageBuilder} (a file
 * another change owns). The library's one way to run a local process is {@link LocalHost}; delete this once
 * {@code CliImageBuilder} uses it.
 */
public final class ProcessRunner {
  private final LocalHost host;
  private final Cancellation cancellation;

  public ProcessRunner(Map<String, String> environment, @Nullable Path directory, Cancellation cancellation) {
    LocalHost h = new LocalHost(List.of("docker"), Path.of(System.getProperty("java.io.tmpdir")), environment);
    this.host = directory != null ? h.inDirectory(directory) : h;
    this.cancellation = cancellation;
  }

  public CommandRunner.Result run(List<String> argv, LogSink output, Duration timeout) {
    CommandResult r = host.run(argv, output, timeout, cancellation);
    return new CommandRunner.Result(r.exitCode(), r.output());
  }
}
