package dev.byop.buildkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.ByopListener;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.LogLine;
import dev.byop.core.SecretRef;
import dev.byop.core.internal.LogHub;
import dev.byop.store.jdbc.JdbcStoreFactory;
import dev.byop.store.jdbc.internal.JdbiStore;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile build output driven through {@link Byop} with the real BuildKit builder of the bed's engine and this store:
 * a RUN step that prints a multi-line (PEM-shaped) build secret and a string equal to the configured git token, a
 * step that prints 200 KB without a newline, and a failing RUN line of 20 KB. Canaries are generated per run and
 * searched for in every stored log line, every listener line, every store row, every file under the data directory
 * and the job's error.
 */
@RequiresTestbed
abstract class HostileBuildLogsContract {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Testbed BED = Testbed.get();

  @TempDir Path tmp;
  private final String run = Long.toString(System.nanoTime(), 36);
  private final String appId = "byop-it-redact-" + run;
  private final List<String> listened = new CopyOnWriteArrayList<>();
  private Path repo;
  private Path dataDir;
  private Byop byop;

  /** The store section of the configuration, or null for the embedded default under the data directory. */
  protected abstract Map<String, Object> storeConfig();

  /** Drops what {@link #storeConfig()} created. */
  protected void dropStore(JdbiStore store) { }

  private static String base64(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return Base64.getEncoder().encodeToString(b);
  }

  /** A private-key-shaped canary: header, 64-character base64 lines, a short last line, footer. */
  private static String pemCanary() {
    String body = base64(48 * 8 + 14);
    StringBuilder b = new StringBuilder("-----BEGIN PRIVATE KEY-----\n");
    for (int i = 0; i < body.length(); i += 64) b.append(body, i, Math.min(body.length(), i + 64)).append('\n');
    return b.append("-----END PRIVATE KEY-----").toString();
  }

  @BeforeEach
  void setUp() throws Exception {
    repo = Files.createDirectories(tmp.resolve("repo"));
    dataDir = tmp.resolve("data");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (byop == null) return;
    byop.close();
    // every image of this run's app, also those of builds that failed after building
    String listed = cli(List.of(BED.dockerCli().toString(), "images", "--format", "{{.Repository}}:{{.Tag}}",
        "--filter", "reference=byop/" + appId + "/*"));
    for (String image : listed.split("\n")) {
      if (!image.isBlank()) cli(List.of(BED.dockerCli().toString(), "rmi", "-f", image.strip()));
    }
    if (storeConfig() != null) {
      try (JdbiStore again = (JdbiStore) JdbcStoreFactory.open((String) storeConfig().get("url"),
          (String) storeConfig().get("user"), ((SecretRef) storeConfig().get("password")).resolve(),
          (String) storeConfig().get("schema"), 2)) {
        dropStore(again);
      }
    }
  }

  private static String cli(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), cmd + " timed out");
    return out;
  }

  private void git(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(repo.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "git " + List.of(args) + ": " + out);
  }

  private void commit(Map<String, String> files) throws Exception {
    for (var f : files.entrySet()) Files.writeString(repo.resolve(f.getKey()), f.getValue());
    git("init", "-q", "-b", "main");
    git("add", "-A");
    git("commit", "-q", "-m", "hostile");
  }

  private Byop open(String gitToken) {
    Map<String, Object> values = new HashMap<>();
    values.put("dataDir", dataDir.toString());
    values.put("git", Map.of("allowFile", true));
    values.put("builder", Map.of("provider", "buildkit", "endpoint", "docker+" + BED.dockerHost(),
        "git", Map.of("username", "ci", "token", SecretRef.value(gitToken), "host", "git.example.invalid")));
    values.put("orchestrator", Map.of("workers", 1, "pollInterval", "50ms", "lease", "20s", "maxAttempts", 3));
    if (storeConfig() != null) values.put("store", storeConfig());
    byop = Byop.builder().config(ByopConfig.of(values)).discover(getClass().getClassLoader())
        .listener(new ByopListener() {
          @Override
          public void logLine(LogLine line) {
            listened.add(line.text());
          }
        }).build();
    byop.store().saveApp(new App(appId, appId, List.of(Component.of("web", GitSource.of("file://" + repo), 8080))));
    return byop;
  }

  private BuildJob build(BuildConfig config) {
    var o = byop.orchestrator();
    return o.await(o.requestBuild(appId, config).id(), Duration.ofMinutes(4));
  }

  private List<String> stored(String jobId) {
    List<String> out = new ArrayList<>();
    for (LogLine l : byop.orchestrator().logs(jobId, 0, 100_000)) out.add(l.text());
    return out;
  }

  /** Every value of every row of byop's tables, as text. */
  private String rows() {
    StringBuilder b = new StringBuilder();
    ((JdbiStore) byop.store()).jdbi().useHandle(h -> {
      for (String t : List.of("byop_app", "byop_component", "byop_build_job", "byop_log", "byop_preview")) {
        for (Map<String, Object> row : h.createQuery("SELECT * FROM " + t).mapToMap().list()) {
          b.append(t).append(' ').append(row.values()).append('\n');
        }
      }
    });
    return b.toString();
  }

  private List<String> filesContaining(List<String> needles) throws IOException {
    List<String> hits = new ArrayList<>();
    try (Stream<Path> files = Files.walk(dataDir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String content = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
        for (String n : needles) if (content.contains(n)) hits.add(dataDir.relativize(f) + " holds " + n);
      }
    }
    return hits;
  }

  @Test
  void aMultiLineSecretAndTheGitTokenPrintedByARunStepAppearNowhere() throws Exception {
    String pem = pemCanary();
    String token = "tok" + base64(18).replace('/', 'x').replace('+', 'y');
    Path secretFile = Files.writeString(tmp.resolve("key.pem"), pem + "\n");
    // The token is printed by shell concatenation, so the Dockerfile itself never holds it.
    commit(Map.of("Dockerfile", "FROM " + BED.baseImage() + "\n"
        + "RUN --mount=type=secret,id=k cat /run/secrets/k && echo '" + token.substring(0, 3) + "''"
        + token.substring(3) + "' && echo " + run + "\n"));
    open(token);
    BuildJob done = build(BuildConfig.builder().secret("k", SecretRef.file(secretFile)).noCache(true).build());
    List<String> logs = stored(done.id());
    assertEquals(BuildStatus.SUCCESS, done.status(), () -> done.error() + "\n" + String.join("\n", logs));
    assertTrue(logs.stream().anyMatch(l -> l.endsWith(" " + run)), "the step ran and its output is logged");

    List<String> needles = new ArrayList<>(List.of(token));
    for (String line : pem.split("\n")) {
      if (line.length() >= dev.byop.core.internal.Redactor.MIN_LINE) needles.add(line);
    }
    List<String> leaks = new ArrayList<>();
    for (String n : needles) {
      for (String l : logs) if (l.contains(n)) leaks.add("stored log line: " + l);
      for (String l : listened) if (l.contains(n)) leaks.add("listener line: " + l);
      if (rows().contains(n)) leaks.add("a store row holds " + n);
    }
    leaks.addAll(filesContaining(needles));
    assertEquals(List.of(), leaks);
    assertTrue(logs.stream().filter(l -> l.contains(dev.byop.core.internal.Redactor.MASK)).count() >= needles.size() - 1,
        () -> "every line of the key and the token are masked:\n" + String.join("\n", logs));
  }

  @Test
  void a200KbLineWithoutNewlineIsCutAndTheBuildSucceeds() throws Exception {
    commit(Map.of("Dockerfile", "FROM " + BED.baseImage() + "\n"
        + "RUN head -c 200000 /dev/zero | tr '\\0' a\n"));
    open("tok-unused-" + run);
    BuildJob done = build(BuildConfig.builder().noCache(true).build());
    List<String> logs = stored(done.id());
    assertEquals(BuildStatus.SUCCESS, done.status(), () -> done.error());
    String cut = logs.stream().filter(l -> l.contains("aaaaaaaaaa")).findFirst().orElseThrow();
    assertTrue(cut.contains(LogHub.CUT_MARKER), () -> cut.substring(cut.length() - 100));
    for (String l : logs) assertTrue(l.length() <= LogHub.MAX_LINE_CHARS, "line of " + l.length() + " chars");
    for (String l : listened) assertTrue(l.length() <= LogHub.MAX_LINE_CHARS, "listener line of " + l.length());
  }

  @Test
  void a20KbFailingRunLineEndsFailedWithABoundedErrorOnTheFirstAttempt() throws Exception {
    String word = "x".repeat(20_000);
    commit(Map.of("Dockerfile", "FROM " + BED.baseImage() + "\n"
        + "RUN echo " + word + " && exit 3\n"));
    open("tok-unused-" + run);
    BuildJob done = build(BuildConfig.builder().noCache(true).build());
    java.util.function.Supplier<String> why = () -> "error [" + done.error() + "]\n"
        + String.join("\n", stored(done.id())).replace(word, "<20 KB of x>");
    assertEquals(BuildStatus.FAILED, done.status(), why);
    assertEquals(1, done.attempt(), why);
    assertTrue(done.error().length() <= 10_000, why);
    assertTrue(done.error().startsWith("build failed at step [2/2] RUN echo xxx"), why);
    assertTrue(done.error().contains(LogHub.CUT_MARKER), why);
    assertFalse(done.error().toLowerCase(Locale.ROOT).contains("lease expired"), done.error());
    assertEquals(done, byop.orchestrator().job(done.id()));
  }
}
