package dev.byop.preview.compose;

import dev.byop.core.spi.Cancellation;
import dev.byop.core.spi.LogSink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * A {@link PreviewHost} for unit tests: commands are answered by a function and recorded, streams are real loopback
 * sockets (so probes and admin calls meet a real peer), files are refused.
 */
final class ScriptedHost implements PreviewHost {
  final List<List<String>> ran = Collections.synchronizedList(new ArrayList<>());
  /** What was written, by path, when files are kept ({@link #keepingFiles}). */
  final java.util.Map<String, byte[]> files = new java.util.concurrent.ConcurrentHashMap<>();
  private final Function<List<String>, CommandResult> answers;
  private final boolean keepFiles;

  ScriptedHost(Function<List<String>, CommandResult> answers) {
    this(answers, false);
  }

  private ScriptedHost(Function<List<String>, CommandResult> answers, boolean keepFiles) {
    this.answers = answers;
    this.keepFiles = keepFiles;
  }

  /** A host that keeps written files in {@link #files} (for a whole deploy). */
  static ScriptedHost keepingFiles(Function<List<String>, CommandResult> answers) {
    return new ScriptedHost(answers, true);
  }

  /** A host whose commands all succeed silently. */
  static ScriptedHost quiet() {
    return new ScriptedHost(argv -> new CommandResult(0, List.of()));
  }

  @Override
  public String id() {
    return "scripted";
  }

  @Override
  public String address() {
    return "127.0.0.1";
  }

  @Override
  public List<String> docker() {
    return List.of("docker");
  }

  @Override
  public String workDir() {
    return "/nonexistent/byop";
  }

  @Override
  public CommandResult run(List<String> argv, LogSink output, Duration timeout, Cancellation cancellation) {
    ran.add(List.copyOf(argv));
    return answers.apply(argv);
  }

  @Override
  public void write(String path, byte[] content, int mode) {
    if (!keepFiles) throw new UnsupportedOperationException("no files on a scripted host");
    files.put(path, content.clone());
  }

  @Override
  public Optional<byte[]> read(String path, int maxBytes) {
    return Optional.empty();
  }

  @Override
  public void delete(String path) { }

  @Override
  public Connection connect(String host, int port, Duration timeout) {
    return Connection.tcp(host, port, timeout);
  }
}
