package dev.byop.preview.local;

import dev.byop.core.spi.LogSink;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A local git repository holding the test app (web/ and api/ as a monorepo), committed with argument lists. */
public final class GitRepo {
  final Path dir;
  private final LocalHost git;

  public GitRepo(Path dir) {
    this.dir = dir;
    this.git = new LocalHost(List.of("docker"), dir, Map.of("GIT_AUTHOR_NAME", "t", "GIT_AUTHOR_EMAIL",
        "t@example.invalid", "GIT_COMMITTER_NAME", "t", "GIT_COMMITTER_EMAIL", "t@example.invalid")).inDirectory(dir);
    git("init", "-q", "-b", "main");
  }

  public List<String> git(String... args) {
    List<String> argv = new ArrayList<>(List.of("git"));
    argv.addAll(List.of(args));
    var r = git.run(argv, LogSink.discard(), Duration.ofSeconds(30));
    if (!r.ok()) throw new AssertionError("git " + String.join(" ", args) + ": " + r.tail(5));
    return r.output();
  }

  /** Writes web and api with {@code marker} and commits; returns the commit id. */
  public String commitApp(String base, String marker) throws Exception {
    TestApps.writeWeb(dir.resolve("web"), base, marker);
    TestApps.writeApi(dir.resolve("api"), base, marker);
    git("add", "-A");
    git("commit", "-q", "-m", marker);
    return git("rev-parse", "HEAD").get(0).trim();
  }

  public String url() {
    return "file://" + dir.toAbsolutePath();
  }
}
