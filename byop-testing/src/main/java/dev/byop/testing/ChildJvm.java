package dev.byop.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM on this test's class path that a crash test kills with SIGKILL by its pid, as a host process dies: no
 * shutdown hook, no finally block runs in it.
 *
 * <pre>{@code
 * try (ChildJvm child = ChildJvm.start(CrashChild.class, List.of(url), Map.of(), Path.of("target/child.log"))) {
 *   waitFor(() -> store.find(id).status() == BUILDING);
 *   child.kill(); // SIGKILL, exit 137
 * }
 * }</pre>
 */
public final class ChildJvm implements AutoCloseable {
  private final Process process;
  private final Path log;

  private ChildJvm(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /** Starts {@code main} with {@code args} and extra environment; its output (both streams) goes to {@code log}. */
  public static ChildJvm start(Class<?> main, List<String> args, Map<String, String> env, Path log) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), main.getName()));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    Files.createDirectories(log.toAbsolutePath().getParent());
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    return new ChildJvm(pb.start(), log);
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Where its output goes. */
  public Path log() {
    return log;
  }

  /** Its output so far (for failure messages). */
  public String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no output: " + e.getMessage() + ")";
    }
  }

  /** Fails with its output when it has exited (a child that dies early would make a wait pointless). */
  public void checkAlive() {
    if (!process.isAlive()) {
      throw new AssertionError("child JVM " + pid() + " exited " + process.exitValue() + " early; its output:\n"
          + output());
    }
  }

  /** SIGKILL by pid, then waits until it is gone; returns its exit value (137 on a kill). */
  public int kill() {
    ProcessHandle.of(process.pid()).ifPresent(ProcessHandle::destroyForcibly); // destroyForcibly is SIGKILL on POSIX
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) throw new AssertionError("child " + pid() + " survived SIGKILL");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for child " + pid(), e);
    }
    return process.exitValue();
  }

  /** Kills it if it still runs. */
  @Override
  public void close() {
    if (process.isAlive()) kill();
  }
}
