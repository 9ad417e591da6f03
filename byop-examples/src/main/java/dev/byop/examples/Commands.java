package dev.byop.examples;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/** Runs a program as an argument list (never through a shell) with a deadline, collecting or streaming its output. */
final class Commands {
  private Commands() {}

  /** What a finished program left behind. */
  record Result(int exitCode, String output) {
    boolean ok() {
      return exitCode == 0;
    }
  }

  /** Runs a program, merging stderr into the output; a program that cannot be started gives exit code 127. */
  static Result run(List<String> command, @Nullable Path dir, Duration timeout) {
    return run(command, dir, timeout, null);
  }

  static Result run(List<String> command, @Nullable Path dir, Duration timeout, @Nullable Consumer<String> lines) {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    if (dir != null) pb.directory(dir.toFile());
    pb.environment().put("LC_ALL", "C");
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      return new Result(127, command.get(0) + ": cannot run (" + e.getMessage() + ")");
    }
    StringBuilder out = new StringBuilder();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          synchronized (out) {
            out.append(line).append('\n');
          }
          if (lines != null) lines.accept(line);
        }
      } catch (IOException ignored) {
        // the process went away; what was read is kept
      }
    }, "cmd-" + command.get(0));
    reader.setDaemon(true);
    reader.start();
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        reader.join(2000);
        synchronized (out) {
          return new Result(124, out + "(timed out after " + timeout.toSeconds() + "s)");
        }
      }
      reader.join(5000);
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      return new Result(130, "interrupted");
    }
    synchronized (out) {
      return new Result(p.exitValue(), out.toString().strip());
    }
  }

  /** A list with the given head and tail, for building argument lists. */
  static List<String> args(String... parts) {
    return new ArrayList<>(List.of(parts));
  }
}
