package dev.byop.buildkit;

import dev.byop.testing.Testbed;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a test helper command (argument list, no shell) and returns its output; fails on a non-zero exit. */
final class Cli {
  private Cli() {}

  record Result(int exit, String out) {}

  static Result run(Path dir, Map<String, String> env, String... cmd) {
    try {
      ProcessBuilder pb = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true);
      if (dir != null) {
        pb.directory(dir.toFile());
      }
      pb.environment().putAll(env);
      Process p = pb.start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new AssertionError("timed out: " + List.of(cmd));
      }
      return new Result(p.exitValue(), out);
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  static String ok(Path dir, String... cmd) {
    Result r = run(dir, Map.of(), cmd);
    if (r.exit() != 0) {
      throw new AssertionError(List.of(cmd) + " exited " + r.exit() + ": " + r.out());
    }
    return r.out();
  }

  static String docker(String... args) {
    return docker(Testbed.get().docker20(), args);
  }

  /** The engine's own CLI against it. */
  static String docker(Testbed.Engine engine, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(engine.cli().toString());
    cmd.addAll(List.of(args));
    Result r = run(null, engine.environment(), cmd.toArray(String[]::new));
    if (r.exit() != 0) {
      throw new AssertionError(cmd + " exited " + r.exit() + ": " + r.out());
    }
    return r.out();
  }
}
