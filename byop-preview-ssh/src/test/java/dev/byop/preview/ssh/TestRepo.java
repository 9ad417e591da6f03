package dev.byop.preview.ssh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A git repository of a test's apps in a temporary directory, read by byop through {@code file://}. */
final class TestRepo implements AutoCloseable {
  final Path dir;

  private TestRepo(Path dir) {
    this.dir = dir;
  }

  /** A fresh repository with branch {@code main}. */
  static TestRepo create(String prefix) throws IOException {
    TestRepo r = new TestRepo(Files.createTempDirectory(prefix));
    r.git("init", "-q", "-b", "main");
    return r;
  }

  /** The URL byop fetches it from (needs {@code git.allowFile}). */
  String url() {
    return "file://" + dir;
  }

  TestRepo write(String rel, String text) throws IOException {
    return write(rel, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  TestRepo write(String rel, byte[] content) throws IOException {
    Path p = dir.resolve(rel);
    Files.createDirectories(p.getParent());
    Files.write(p, content);
    return this;
  }

  /** Commits everything and returns the commit id. */
  String commit(String message) {
    git("add", "-A");
    git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", message);
    return git("rev-parse", "HEAD").trim();
  }

  String git(String... args) {
    List<String> cmd = new ArrayList<>(List.of("git", "-C", dir.toString()));
    cmd.addAll(List.of(args));
    return TestbedEnv.run(cmd, Map.of());
  }

  @Override
  public void close() {
    TestbedEnv.deleteTree(dir);
  }
}
