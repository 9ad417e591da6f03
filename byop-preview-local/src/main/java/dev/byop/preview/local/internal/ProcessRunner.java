package dev.byop.preview.local.internal;

import dev.byop.core.CancelledException;
import dev.byop.core.PreviewException;
import dev.byop.core.internal.BoundedReads;
import dev.byop.preview.compose.CommandRunner;
import dev.byop.core.spi.Cancellation;
import dev.byop.core.spi.LogSink;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Runs local processes from argument lists (never through a shell), stdout and stderr merged and passed on line by
 * line as they come, each line cut at {@link BoundedReads#MAX_LINE_BYTES} with a visible marker; stops the process
 * when the timeout passes or the work is cancelled.
 */
public final class ProcessRunner implements CommandRunner {
  private final Map<String, String> environment;
  private final @Nullable Path directory;
  private final Cancellation cancellation;

  public ProcessRunner(Map<String, String> environment, @Nullable Path directory, Cancellation cancellation) {
    this.environment = Map.copyOf(environment);
    this.directory = directory;
    this.cancellation = cancellation;
  }

  /** The same runner with another cancellation (one per job). */
  public ProcessRunner with(Cancellation c) {
    return new ProcessRunner(environment, directory, c);
  }

  @Override
  public Result run(List<String> argv, LogSink output, Duration timeout) {
    cancellation.throwIfCancelled();
    ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
    pb.environment().putAll(environment);
    if (directory != null) pb.directory(directory.toFile());
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new PreviewException("cannot run " + argv.get(0) + ": " + e.getMessage(), e);
    }
    // bounded: a line is cut at MAX_LINE_BYTES with a visible marker, and the result keeps at most MAX_LINES
    BoundedReads.LineList lines = new BoundedReads.LineList(BoundedReads.MAX_LINES);
    Thread reader = new Thread(() -> {
      try (java.io.InputStream in = p.getInputStream()) {
        BoundedReads.lines(in, BoundedReads.MAX_LINE_BYTES, line -> {
          lines.add(line);
          output.line(line);
        });
      } catch (IOException e) {
        // the process was stopped; what was read is kept
      }
    }, "byop-proc-" + argv.get(0));
    reader.setDaemon(true);
    reader.start();
    try (AutoCloseable onCancel = cancellation.onCancel(p::destroyForcibly)) {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        throw new PreviewException(String.join(" ", argv) + " did not finish within " + timeout);
      }
      reader.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new CancelledException("interrupted while running " + argv.get(0));
    } catch (PreviewException e) {
      throw e;
    } catch (Exception e) {
      throw new PreviewException("running " + argv.get(0) + " failed: " + e.getMessage(), e);
    }
    if (cancellation.isCancelled()) throw new CancelledException(cancellation.reason());
    return new Result(p.exitValue(), lines.snapshot());
  }
}
