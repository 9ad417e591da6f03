package dev.byop.examples;

import dev.byop.core.App;
import dev.byop.core.ByopException;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * The bundled sample app: two components (web and api) in one git repository that the example creates from files it
 * ships under {@code sample-app/}, committed with the git CLI into {@code <dataDir>/sample-app.git}.
 */
public final class SampleApp {
  /** The app id in the store. */
  public static final String APP_ID = "sample";
  private static final Duration GIT_TIMEOUT = Duration.ofSeconds(60);

  /** The repository and the commit it holds, and whether this run changed it. */
  public record Repo(Path gitDir, String commit, boolean reused) {
    public String url() {
      return gitDir.toUri().toString().replaceFirst("^file:/+", "file:///");
    }
  }

  private SampleApp() {}

  /**
   * Creates (or brings up to date) the sample's git repository. A second run whose files did not change commits
   * nothing and says it reused the repository.
   */
  public static Repo ensureRepository(Path dataDirectory) {
    // git runs in the work tree: every path handed to it must be absolute.
    Path dataDir = dataDirectory.toAbsolutePath().normalize();
    Path gitDir = dataDir.resolve("sample-app.git");
    try {
      Files.createDirectories(dataDir);
      boolean exists = Files.isRegularFile(gitDir.resolve("HEAD"));
      if (!exists) git(null, dataDir, "init", "--quiet", "--bare", gitDir.toString());
      // Each run writes the shipped files into a fresh work tree and lets git decide whether anything changed.
      Path work = Files.createTempDirectory(dataDir, "sample-app-work");
      try {
        for (String file : files()) {
          Path target = work.resolve(file);
          Files.createDirectories(target.getParent());
          try (InputStream in = resource("sample-app/" + file)) {
            Files.copy(in, target);
          }
        }
        List<String> base = List.of("--git-dir=" + gitDir, "--work-tree=" + work);
        git(base, work, "add", "--all", ".");
        for (String file : files()) {
          if (file.contains("/cgi-bin/")) git(base, work, "update-index", "--chmod=+x", "--", file);
        }
        boolean hasHead = Commands.run(gitCommand(base, "rev-parse", "--verify", "--quiet", "HEAD"), work, GIT_TIMEOUT).ok();
        boolean unchanged = hasHead
            && Commands.run(gitCommand(base, "diff", "--cached", "--quiet", "HEAD"), work, GIT_TIMEOUT).ok();
        if (!unchanged) {
          git(base, work, "-c", "user.name=byop example", "-c", "user.email=example@byop.invalid", "-c",
              "commit.gpgsign=false", "commit", "--quiet", "-m", hasHead ? "Update the sample app" : "The sample app");
        }
        String commit = git(base, work, "rev-parse", "HEAD").strip();
        return new Repo(gitDir, commit, unchanged);
      } finally {
        deleteTree(work);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the sample repository under " + dataDir, e);
    }
  }

  /** The sample app as byop sees it: web routes the preview URL, api answers web by its service name. */
  public static App app(Repo repo, String baseImage) {
    return app(APP_ID, repo, baseImage);
  }

  /** The sample app under another id (tests use their own). */
  public static App app(String appId, Repo repo, String baseImage) {
    GitSource source = GitSource.of(repo.url()).withCommit(repo.commit());
    Map<String, String> args = Map.of("BASE_IMAGE", baseImage);
    Component web = new Component("web", source, "web", "Dockerfile", args, 8080,
        Map.of("API_HOST", "api", "API_PORT", "8081"), "/");
    Component api = new Component("api", source, "api", "Dockerfile", args, 8081,
        Map.of("GREETING", "hello from the byop sample api"), "/health");
    return new App(appId, "byop sample app", List.of(web, api));
  }

  /** The shipped files, from the index next to them (a class path directory cannot be listed inside a jar). */
  static List<String> files() throws IOException {
    List<String> out = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(resource("sample-app.files"), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        if (!line.isBlank()) out.add(line.strip());
      }
    }
    return out;
  }

  private static InputStream resource(String name) throws IOException {
    InputStream in = SampleApp.class.getClassLoader().getResourceAsStream(name);
    if (in == null) throw new IOException("resource " + name + " is missing from the example's class path");
    return in;
  }

  private static List<String> gitCommand(List<String> base, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add("git");
    cmd.addAll(base);
    cmd.addAll(List.of(args));
    return cmd;
  }

  private static String git(@Nullable List<String> base, Path dir, String... args) {
    List<String> cmd = gitCommand(base == null ? List.of() : base, args);
    Commands.Result r = Commands.run(cmd, dir, GIT_TIMEOUT);
    if (r.exitCode() == 127) throw new ByopException("git is not installed; install it with: apt-get install -y git");
    if (!r.ok()) throw new ByopException(String.join(" ", cmd) + " failed (exit " + r.exitCode() + "): " + r.output());
    return r.output();
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
