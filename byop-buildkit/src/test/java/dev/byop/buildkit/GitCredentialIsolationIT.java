package dev.byop.buildkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.byop.core.App;
import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.ByopListener;
import dev.byop.core.Component;
import dev.byop.core.GitCredentials;
import dev.byop.core.GitSource;
import dev.byop.core.LogLine;
import dev.byop.core.SecretRef;
import dev.byop.store.jdbc.JdbcStoreFactory;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile cases for git credentials, driven through {@link Byop} with the jdbc store and the bed's BuildKit: two git
 * servers on two loopback ports speak git's dumb HTTP protocol and demand Basic auth; {@code trusted} holds the
 * private repository the operator's token is for, {@code foreign} only records every {@code Authorization} header it
 * is sent. A wrapper git binary records each git command line, as {@code ps} would show it.
 */
@RequiresTestbed
class GitCredentialIsolationIT {
  private static final Testbed BED = Testbed.get();
  private static final String RUN = Long.toString(System.currentTimeMillis(), 36);
  private static final String TOKEN = "gc-canary-" + RUN + "-Tok";
  private static final List<String> images = new CopyOnWriteArrayList<>();

  @TempDir static Path tmp;
  private static Path bare;
  private static String commit;
  private static GitServer trusted;
  private static GitServer foreign;
  private static Path gitWrapper;
  private static Path argvLog;
  private static Path redirectingGit;

  @BeforeAll
  static void servers() throws Exception {
    Path work = Files.createDirectories(tmp.resolve("work"));
    Files.writeString(work.resolve("Dockerfile"), "FROM " + BED.baseImage() + "\nCOPY secret.txt /secret.txt\n");
    Files.writeString(work.resolve("secret.txt"), "private " + RUN);
    Cli.ok(work, "git", "init", "-q", "-b", "main");
    Cli.ok(work, "git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "add", "-A");
    Cli.ok(work, "git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "one");
    commit = Cli.ok(work, "git", "rev-parse", "HEAD").trim();
    bare = tmp.resolve("private.git");
    Cli.ok(tmp, "git", "clone", "-q", "--bare", work.toString(), bare.toString());
    Cli.ok(bare, "git", "update-server-info");
    trusted = new GitServer(bare, "ci", TOKEN);
    foreign = new GitServer(bare, "nobody", "never-" + RUN);
    // the trusted host sends a fetch of /moved.git on to the foreign host, as a hijacked or hostile server would
    trusted.redirect("/moved.git/", "http://127.0.0.1:" + foreign.port() + "/private.git/");

    argvLog = tmp.resolve("git-argv.log");
    gitWrapper = tmp.resolve("git-wrapper");
    Files.writeString(gitWrapper, "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '" + argvLog + "'\nexec git \"$@\"\n");
    Files.setPosixFilePermissions(gitWrapper, PosixFilePermissions.fromString("rwx------"));
    // a git that follows redirects whatever byop asks, to show the askpass helper alone still sends nothing there
    redirectingGit = tmp.resolve("git-follows-redirects");
    Files.writeString(redirectingGit, "#!/bin/bash\nargs=()\nfor a in \"$@\"; do\n"
        + "  [ \"$a\" = http.followRedirects=false ] && a=http.followRedirects=true\n  args+=(\"$a\")\ndone\n"
        + "exec git \"${args[@]}\"\n");
    Files.setPosixFilePermissions(redirectingGit, PosixFilePermissions.fromString("rwx------"));
  }

  @AfterAll
  static void cleanUp() {
    if (trusted != null) trusted.stop();
    if (foreign != null) foreign.stop();
    for (String image : images) {
      Cli.run(null, Map.of("DOCKER_HOST", BED.dockerHost()), BED.dockerCli().toString(), "rmi", "-f", image);
    }
  }

  @Test
  void theOperatorsTokenNeverReachesAnotherHost() throws Exception {
    String app = "gc" + RUN + "-other";
    foreign.authorizations.clear();
    try (Byop byop = byop(tmp.resolve("data-other"), "/", l -> { })) {
      BuildJob job = build(byop, app, GitSource.of(foreign.url("/private.git")).withRef("main"));
      assertEquals(BuildStatus.FAILED, job.status(), "the foreign host refuses a fetch without its credentials");
      // the same token does work where it is configured for
      BuildJob own = build(byop, app + "-ok", GitSource.of(trusted.url("/private.git")).withRef("main"));
      assertEquals(BuildStatus.SUCCESS, own.status(), own::error);
      images.add(own.image());
    }
    assertEquals(List.of(), foreign.authorizations, "credentials sent to a host they are not for");
    assertTrue(foreign.requests.size() > 0, "git did ask the foreign host");
  }

  @Test
  void aRedirectToAnotherHostCarriesNoCredentials() throws Exception {
    String app = "gc" + RUN + "-moved";
    foreign.authorizations.clear();
    trusted.redirected.clear();
    try (Byop byop = byop(tmp.resolve("data-moved"), "/", l -> { })) {
      BuildJob job = build(byop, app, GitSource.of(trusted.url("/moved.git")).withRef("main"));
      assertEquals(BuildStatus.FAILED, job.status());
    }
    assertTrue(trusted.redirected.size() > 0, "the trusted host answered with its redirect");
    assertEquals(List.of(), foreign.authorizations, "credentials followed a redirect to another host");
  }

  @Test
  void evenAGitThatFollowsTheRedirectSendsTheForeignHostNoCredentials() throws Exception {
    String app = "gc" + RUN + "-follow";
    foreign.authorizations.clear();
    foreign.requests.clear();
    try (Byop byop = byop(tmp.resolve("data-follow"), "/", redirectingGit, l -> { })) {
      BuildJob job = build(byop, app, GitSource.of(trusted.url("/moved.git")).withRef("main"));
      assertEquals(BuildStatus.FAILED, job.status());
    }
    assertTrue(foreign.requests.size() > 0, "git followed the redirect to the foreign host");
    assertEquals(List.of(), foreign.authorizations, "the askpass helper answered a prompt for another host");
  }

  @Test
  void aCachedPrivateCommitIsNotServedToAnAppTheServerDidNotAuthorise() throws Exception {
    String owner = "gc" + RUN + "-owner";
    String intruder = "gc" + RUN + "-intruder";
    String wrong = "gc" + RUN + "-wrong";
    try (Byop byop = byop(tmp.resolve("data-cache"), "/operator/", l -> { })) {
      BuildJob ok = build(byop, owner, ownersSource(owner).withCommit(commit));
      assertEquals(BuildStatus.SUCCESS, ok.status(), ok::error);
      images.add(ok.image());
      // the same repository and commit, named by an app without credentials and by one with wrong ones
      BuildJob stolen = build(byop, intruder, GitSource.of(trusted.url("/private.git")).withCommit(commit));
      if (stolen.image() != null) images.add(stolen.image());
      assertEquals(BuildStatus.FAILED, stolen.status(), "a private commit was served from another app's cache");
      BuildJob guessed = build(byop, wrong, wrongSource(wrong).withCommit(commit));
      if (guessed.image() != null) images.add(guessed.image());
      assertEquals(BuildStatus.FAILED, guessed.status(), "a private commit was served for wrong credentials");
    }
  }

  @Test
  void theTokenIsInNoLogRowFileExceptionOrCommandLine() throws Exception {
    String app = "gc" + RUN + "-canary";
    Path data = tmp.resolve("data-canary");
    List<String> seen = new CopyOnWriteArrayList<>();
    List<String> refused = new ArrayList<>();
    PrintStream originalErr = System.err;
    PrintStream originalOut = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream tee = new PrintStream(new Tee(originalErr, captured), true, StandardCharsets.UTF_8);
    System.setErr(tee);
    System.setOut(tee);
    try (Byop byop = byop(data, "/operator/", l -> seen.add(l.text()))) {
      // every way a user might write the token into a URL
      String host = "127.0.0.1:" + trusted.port();
      for (String url : List.of("HTTPS://ci:" + TOKEN + "@" + host + "/private.git",
          "http://ci:" + TOKEN + "@" + host + "/private.git",
          "http://ci:" + TOKEN.replace("-Tok", "@Tok") + "@" + host + "/private.git",
          "http://ci:" + TOKEN.replace("-Tok", "%40+Tok") + "@" + host + "/private.git",
          "http://" + TOKEN + "@" + host + "/private.git",
          "ssh://ci:" + TOKEN + "@" + host + "/private.git")) {
        try {
          BuildJob j = build(byop, app, GitSource.of(url).withRef("main"));
          seen.add(j.error() == null ? "" : j.error());
          if (j.image() != null) images.add(j.image());
        } catch (RuntimeException e) {
          seen.add(e.toString());
          refused.add(e.getMessage());
        }
      }
      assertEquals(6, refused.size(), "every URL with a token is refused: " + refused);
      assertTrue(refused.stream().allMatch(m -> m.contains("invalid git.url") && m.contains("credentials")),
          refused::toString);
      BuildJob ok = build(byop, app, ownersSource(app).withRef("main"));
      assertEquals(BuildStatus.SUCCESS, ok.status(), ok::error);
      images.add(ok.image());
      for (BuildJob j : byop.orchestrator().jobs(app, 100)) {
        for (LogLine l : byop.orchestrator().logs(j.id(), 0, 100_000)) seen.add(l.text());
        seen.add(String.valueOf(j.error()));
      }
    } finally {
      System.setErr(originalErr);
      System.setOut(originalOut);
    }
    List<String> secrets = List.of(TOKEN, TOKEN.replace("-Tok", "@Tok"), TOKEN.replace("-Tok", "%40+Tok"),
        TOKEN.replace("-Tok", "@+Tok"), TOKEN.replace("-Tok", ""));
    for (String s : secrets) {
      assertFalse(String.join("\n", seen).contains(s), "a log line or error holds the token");
      assertFalse(captured.toString(StandardCharsets.UTF_8).contains(s), "SLF4J or stdout printed the token");
      assertFalse(Files.readString(argvLog).contains(s), "a git command line holds the token");
    }
    // every row of every table
    try (Connection c = DriverManager.getConnection(JdbcStoreFactory.h2Url(data));
        Statement st = c.createStatement()) {
      List<String> tables = new ArrayList<>();
      try (ResultSet rs = st.executeQuery("SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES"
          + " WHERE TABLE_SCHEMA = 'PUBLIC'")) {
        while (rs.next()) tables.add(rs.getString(1));
      }
      assertTrue(tables.size() > 3, tables.toString());
      for (String t : tables) {
        try (ResultSet rs = st.executeQuery("SELECT * FROM \"" + t + "\"")) {
          int n = rs.getMetaData().getColumnCount();
          while (rs.next()) {
            for (int i = 1; i <= n; i++) {
              String v = rs.getString(i);
              for (String s : secrets) {
                assertFalse(v != null && v.contains(s), "table " + t + " column " + i + " holds the token");
              }
            }
          }
        }
      }
    }
    // every file under the data directory, the caches' .git/config included
    try (Stream<Path> files = Files.walk(data)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String content = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
        for (String s : secrets) assertFalse(content.contains(s), "file " + data.relativize(f) + " holds the token");
      }
    }
  }

  // ---------------------------------------------------------------- how the credentials are given

  /** The app that owns the private repository, with its own credentials (a token file in its secrets folder). */
  private static GitSource ownersSource(String app) throws IOException {
    return appSource(app, TOKEN);
  }

  private static GitSource wrongSource(String app) throws IOException {
    return appSource(app, "wrong-" + RUN);
  }

  private static GitSource appSource(String app, String token) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("app-secrets").resolve(app));
    Files.writeString(dir.resolve("git-token"), token + "\n");
    return GitSource.of(trusted.url("/private.git"))
        .withCredentials(GitCredentials.of("ci", SecretRef.file(Path.of("git-token"))));
  }

  /** The operator's token, configured for URLs under {@code match} on the trusted host. */
  private static Map<String, Object> gitSection(String match, Path gitBinary) throws IOException {
    Path tokenFile = Files.writeString(tmp.resolve("operator.token"), TOKEN + "\n");
    Map<String, Object> git = new HashMap<>();
    git.put("binary", gitBinary.toString());
    git.put("credentials", List.of(Map.of("match", trusted.url(match), "username", "ci",
        "token", Map.of("file", tokenFile.toString()))));
    git.put("appSecrets", tmp.resolve("app-secrets").toString());
    return git;
  }

  // ---------------------------------------------------------------- machinery

  private static Byop byop(Path dataDir, String match, Consumer<LogLine> lines) throws IOException {
    return byop(dataDir, match, gitWrapper, lines);
  }

  private static Byop byop(Path dataDir, String match, Path gitBinary, Consumer<LogLine> lines) throws IOException {
    ByopConfig config = ByopConfig.of(Map.of(
        "dataDir", dataDir.toString(),
        "git", Map.of("allowHttp", true),
        "builder", Map.of("provider", "buildkit", "endpoint", "docker+" + BED.dockerHost(),
            "git", gitSection(match, gitBinary)),
        "orchestrator", Map.of("workers", 1, "pollInterval", "50ms")));
    return Byop.builder().config(config).discover(GitCredentialIsolationIT.class.getClassLoader())
        .listener(new ByopListener() {
          @Override
          public void logLine(LogLine line) {
            lines.accept(line);
          }
        }).build();
  }

  private static BuildJob build(Byop byop, String app, GitSource source) {
    byop.store().saveApp(App.of(app, Component.of("web", source, 0)));
    var o = byop.orchestrator();
    return o.await(o.requestBuild(app, BuildConfig.defaults()).id(), Duration.ofMinutes(3));
  }

  /** A dumb-HTTP git server for one bare repository that demands one user and token, recording what it is sent. */
  static final class GitServer {
    final List<String> authorizations = new CopyOnWriteArrayList<>();
    final List<String> requests = new CopyOnWriteArrayList<>();
    final List<String> redirected = new CopyOnWriteArrayList<>();
    private final HttpServer server;

    GitServer(Path repo, String user, String token) throws IOException {
      String expected = "Basic " + Base64.getEncoder().encodeToString((user + ":" + token)
          .getBytes(StandardCharsets.UTF_8));
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.createContext("/private.git/", ex -> {
        try (ex) {
          requests.add(ex.getRequestURI().toString());
          String auth = ex.getRequestHeaders().getFirst("Authorization");
          if (auth != null) authorizations.add(auth);
          if (!expected.equals(auth)) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"byop-test\"");
            ex.sendResponseHeaders(401, -1);
            return;
          }
          Path file = repo.resolve(ex.getRequestURI().getPath().substring("/private.git/".length())).normalize();
          if (!file.startsWith(repo) || !Files.isRegularFile(file)) {
            ex.sendResponseHeaders(404, -1);
            return;
          }
          byte[] body = Files.readAllBytes(file);
          ex.sendResponseHeaders(200, body.length);
          try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
          }
        }
      });
      server.start();
    }

    void redirect(String prefix, String to) {
      server.createContext(prefix, ex -> {
        try (ex) {
          redirected.add(ex.getRequestURI().toString());
          String rest = ex.getRequestURI().toString().substring(prefix.length());
          ex.getResponseHeaders().set("Location", to + rest);
          ex.sendResponseHeaders(302, -1);
        }
      });
    }

    int port() {
      return server.getAddress().getPort();
    }

    String url(String path) {
      return "http://127.0.0.1:" + port() + path;
    }

    void stop() {
      server.stop(0);
    }
  }

  /** Writes to two streams. */
  static final class Tee extends OutputStream {
    private final OutputStream a;
    private final OutputStream b;

    Tee(OutputStream a, OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public void write(int x) throws IOException {
      a.write(x);
      b.write(x);
    }

    @Override
    public void write(byte[] buf, int off, int len) throws IOException {
      a.write(buf, off, len);
      b.write(buf, off, len);
    }
  }
}
