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
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.LogLine;
import dev.byop.testing.FakeRegistry;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile repositories and requests, each built through a whole {@link Byop} (embedded H2 store, the BuildKit builder
 * on the bed's engine) as a host application would: escaping symlinks, a link swapped between check and use,
 * overlong output, a malformed {@code .dockerignore} and a base image on a foreign registry that must get no
 * credentials. On every engine of the bed's matrix (each case's names carry the engine's).
 */
@RequiresTestbed
@ParameterizedClass(name = "{0}")
@MethodSource("engines")
class HostileBuildIT {
  private static final String RUN = Long.toString(System.currentTimeMillis(), 36);
  private static final Testbed BED = Testbed.get();
  /** Images built, with the engine that holds them. */
  private static final Map<String, Testbed.Engine> IMAGES = new java.util.concurrent.ConcurrentHashMap<>();

  @TempDir static Path tmp;

  @Parameter Testbed.Engine engine;

  static Stream<Testbed.Engine> engines() {
    return Testbed.get().engines().stream();
  }

  @AfterAll
  static void removeImages() {
    IMAGES.forEach((image, e) -> Cli.run(tmp, Map.of(), e.cli().toString(), "-H", e.dockerHost(), "rmi", "-f", image));
  }

  // --- paths --------------------------------------------------------------------------------------------------

  @Test
  void contextDirSymlinkToTheDataDirFails() throws Exception {
    // the case: ctx -> ../../../.. is byop's data dir seen from <data>/buildkit/jobs/<job>/src
    Path repo = repo("ctxlink", Map.of("Dockerfile", "FROM " + BED.baseImage() + "\nCOPY . /stolen\n"
        + "RUN ls /stolen/buildkit\n"), Map.of("ctx", "../../../.."));
    String cacheDockerfile = "buildkit/git-cache/" + hash("file://" + repo) + "/Dockerfile";
    Outcome o = build("ctxlink", new Component("web", GitSource.of("file://" + repo), "ctx", cacheDockerfile,
        Map.of(), 8080, Map.of(), null), BuildConfig.defaults());
    o.assertFailedNaming("component.contextDir", "'ctx'");
  }

  @Test
  void dockerfileSymlinkToAFileOutsideFails() throws Exception {
    String canary = "operator-canary-df-" + RUN;
    Path outside = Files.createDirectories(tmp.resolve("outside-df-" + engine.name()));
    Files.writeString(outside.resolve("Dockerfile"), "FROM " + BED.baseImage() + "\nRUN echo " + canary + "\n");
    Path repo = repo("dflink", Map.of("README", "x\n"), Map.of("Dockerfile", outside.resolve("Dockerfile").toString()));
    Outcome o = build("dflink", Component.of("web", GitSource.of("file://" + repo), 8080), BuildConfig.defaults());
    o.assertFailedNaming("component.dockerfile", "'Dockerfile'");
    o.assertNowhere(canary);
  }

  @Test
  void pathComponentSymlinkOutOfTheCheckoutFails() throws Exception {
    String canary = "operator-canary-comp-" + RUN;
    Path outside = Files.createDirectories(tmp.resolve("outside-comp-" + engine.name() + "/b"));
    Files.writeString(outside.resolve("Dockerfile"), "FROM " + BED.baseImage() + "\nCOPY secret.txt /s\nRUN cat /s\n");
    Files.writeString(outside.resolve("secret.txt"), canary + "\n");
    Path repo = repo("complink", Map.of("a/README", "x\n"), Map.of("a/link", outside.getParent().toString()));
    Outcome o = build("complink", new Component("web", GitSource.of("file://" + repo), "a/link/b", "Dockerfile",
        Map.of(), 8080, Map.of(), null), BuildConfig.defaults());
    o.assertFailedNaming("component.contextDir", "'a/link/b'");
    o.assertNowhere(canary);
  }

  @Test
  void buildRequestDockerfileThroughAnOutsideLinkFails() throws Exception {
    String canary = "operator-canary-req-" + RUN;
    Path outside = Files.createDirectories(tmp.resolve("outside-req-" + engine.name()));
    Files.writeString(outside.resolve("Dockerfile"), "FROM " + BED.baseImage() + "\nRUN echo " + canary + "\n");
    Path repo = repo("reqlink", Map.of("Dockerfile", "FROM " + BED.baseImage() + "\n"), Map.of("df", outside.toString()));
    Outcome o = build("reqlink", Component.of("web", GitSource.of("file://" + repo), 8080),
        BuildConfig.builder().dockerfile("df/Dockerfile").build());
    o.assertFailedNaming("build.dockerfile", "'df/Dockerfile'");
    o.assertNowhere(canary);
  }

  @Test
  void contextSwappedForAnOutsideLinkAfterTheCheckFails() throws Exception {
    String canary = "operator-canary-swap-" + RUN;
    Path outside = Files.createDirectories(tmp.resolve("outside-swap-" + engine.name()));
    Files.writeString(outside.resolve("Dockerfile"), "FROM " + BED.baseImage() + "\nCOPY secret.txt /s\nRUN cat /s\n");
    Files.writeString(outside.resolve("secret.txt"), canary + "\n");
    Path repo = repo("swap", Map.of("app/Dockerfile", "FROM " + BED.baseImage() + "\nCOPY f /f\n", "app/f", "inside\n"),
        Map.of());
    List<String> swapped = new CopyOnWriteArrayList<>();
    // after the builder resolved and checked the paths, before the context and Dockerfile are opened
    BuildKitImageBuilder.afterPathCheck = checkout -> {
      try {
        Files.move(checkout.resolve("app"), checkout.resolve("app.moved"));
        Files.createSymbolicLink(checkout.resolve("app"), outside);
        swapped.add("app");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
    Outcome o;
    try {
      o = build("swap", new Component("web", GitSource.of("file://" + repo), "app", "Dockerfile", Map.of(), 8080,
          Map.of(), null), BuildConfig.defaults());
    } finally {
      BuildKitImageBuilder.afterPathCheck = null;
    }
    assertEquals(List.of("app"), swapped, "the hook swapped the context");
    o.assertFailedNaming("symbolic link");
    o.assertNowhere(canary);
  }

  @Test
  void dockerfileSwappedForAnOutsideLinkAfterTheCheckFails() throws Exception {
    String canary = "operator-canary-dfswap-" + RUN;
    Path outside = Files.createDirectories(tmp.resolve("outside-dfswap-" + engine.name()));
    Files.writeString(outside.resolve("Dockerfile"), "FROM " + BED.baseImage() + "\nRUN echo " + canary + "\n");
    Path repo = repo("dfswap", Map.of("Dockerfile", "FROM " + BED.baseImage() + "\nRUN echo inside\n"), Map.of());
    BuildKitImageBuilder.afterPathCheck = checkout -> {
      try {
        Files.delete(checkout.resolve("Dockerfile"));
        Files.createSymbolicLink(checkout.resolve("Dockerfile"), outside.resolve("Dockerfile"));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
    Outcome o;
    try {
      o = build("dfswap", Component.of("web", GitSource.of("file://" + repo), 8080), BuildConfig.defaults());
    } finally {
      BuildKitImageBuilder.afterPathCheck = null;
    }
    o.assertFailedNaming("symbolic link");
    o.assertNowhere(canary);
  }

  @Test
  void linksInsideTheContextAreSentAsLinksNeverFollowed() throws Exception {
    String canary = "operator-canary-inner-" + RUN;
    Path outside = Files.createDirectories(tmp.resolve("outside-inner-" + engine.name()));
    Files.writeString(outside.resolve("secret.txt"), canary + "\n");
    Path repo = repo("inner", Map.of("f", "inside\n", "Dockerfile", "FROM " + BED.baseImage() + "\nCOPY . /app\n"
        + "RUN test -L /app/inlink && test \"$(cat /app/inlink)\" = inside && test -L /app/out"
        + " && ! test -e /app/out/secret.txt && echo links-ok-" + RUN + "\n"),
        Map.of("inlink", "f", "out", outside.toString()));
    Outcome o = build("inner", Component.of("web", GitSource.of("file://" + repo), 8080), BuildConfig.defaults());
    assertEquals(BuildStatus.SUCCESS, o.job.status(), o::describe);
    assertTrue(o.logs.stream().anyMatch(l -> l.contains("links-ok-" + RUN)), o::describe);
    o.assertNowhere(canary);
  }

  // --- bounded output -----------------------------------------------------------------------------------------

  @Test
  void a200KbLineWithoutNewlineIsCutAndTheBuildSucceeds() throws Exception {
    Path repo = repo("longline", Map.of("Dockerfile", "FROM " + BED.baseImage() + "\n"
        + "RUN echo " + RUN + " > /run-id && head -c 200000 /dev/zero | tr '\\0' x\n"), Map.of());
    Outcome o = build("longline", Component.of("web", GitSource.of("file://" + repo), 8080), BuildConfig.defaults());
    assertEquals(BuildStatus.SUCCESS, o.job.status(), o::describe);
    assertTrue(o.logs.stream().anyMatch(l -> l.contains("[cut: 200000 bytes]")), o::describe);
    int longest = o.logs.stream().mapToInt(String::length).max().orElse(0);
    assertTrue(longest <= 9000, "longest log line " + longest);
  }

  @Test
  void a20KbFailingRunLineEndsFailedWithABoundedError() throws Exception {
    String arg = "y".repeat(20_000);
    Path repo = repo("longrun", Map.of("Dockerfile", "FROM " + BED.baseImage() + "\n"
        + "RUN echo " + arg + " > /dev/null && exit 3\n"), Map.of());
    Outcome o = build("longrun", Component.of("web", GitSource.of("file://" + repo), 8080), BuildConfig.defaults());
    assertEquals(BuildStatus.FAILED, o.job.status(), o::describe);
    String error = String.valueOf(o.job.error());
    assertTrue(error.length() <= 2500, "error of " + error.length() + " chars");
    assertTrue(error.contains("exit code 3"), error.substring(0, Math.min(500, error.length())));
    int longest = o.logs.stream().mapToInt(String::length).max().orElse(0);
    assertTrue(longest <= 9000, "longest log line " + longest);
  }

  // --- .dockerignore ------------------------------------------------------------------------------------------

  @Test
  void malformedDockerignorePatternNamesTheLine() throws Exception {
    Path repo = repo("ignore", Map.of("Dockerfile", "FROM " + BED.baseImage() + "\nCOPY . /app\n",
        ".dockerignore", "# comment\nnode_modules\n[z-a]\n"), Map.of());
    Outcome o = build("ignore", Component.of("web", GitSource.of("file://" + repo), 8080), BuildConfig.defaults());
    o.assertFailedNaming(".dockerignore", "line 3", "[z-a]");
  }

  // --- registry credentials -----------------------------------------------------------------------------------

  @Test
  void aForeignRegistryBaseImageGetsNoCredentials() throws Exception {
    // where this engine's BuildKit reaches this machine over plain HTTP (a 26.1 engine lives in a network namespace
    // of its own)
    try (FakeRegistry server = FakeRegistry.start(BED.fakeRegistryAddress(engine))) {
      String foreign = server.address();
      String canary = "foreign-canary-" + RUN;
      // the operator's Docker config holds a login for that host: it is not this build's to use
      Path dockerConfig = tmp.resolve("docker-config-" + engine.name() + "-" + RUN + ".json");
      Files.writeString(dockerConfig, "{\"auths\":{\"" + foreign + "\":{\"auth\":\""
          + Base64.getEncoder().encodeToString(("operator:" + canary).getBytes(StandardCharsets.UTF_8)) + "\"}}}");
      Path repo = repo("foreign", Map.of("Dockerfile", "FROM " + foreign + "/private/base:1\nRUN true\n"), Map.of());
      Component web = Component.of("web", GitSource.of("file://" + repo), 8080);

      Outcome o = build("foreign", web, BuildConfig.defaults(), Map.of("dockerConfig", dockerConfig.toString()));
      assertEquals(BuildStatus.FAILED, o.job.status(), o::describe);
      assertFalse(server.requests().isEmpty(), "the daemon asked the foreign registry: " + o.describe());
      assertEquals(List.of(), server.authorizations(), "no credentials reach a host the configuration does not name");

      // control: once the host allows credentials for that registry, the same build sends them
      Outcome allowed = build("foreign2", web, BuildConfig.defaults(), Map.of("dockerConfig", dockerConfig.toString(),
          "registryAuth", List.of(foreign)));
      assertEquals(BuildStatus.FAILED, allowed.job.status(), allowed::describe);
      assertFalse(server.authorizations().isEmpty(), "a configured base-image registry gets its credentials: "
          + server.requests());
      allowed.assertNowhere(canary);
    }
  }

  // --- helpers ------------------------------------------------------------------------------------------------

  /** A finished job with its log lines. */
  private record Outcome(BuildJob job, List<String> logs) {
    String describe() {
      return job.status() + ": " + cut(String.valueOf(job.error())) + "\n" + cut(String.join("\n", logs));
    }

    private static String cut(String s) {
      return s.length() > 4000 ? s.substring(0, 2000) + " … " + s.substring(s.length() - 2000) : s;
    }

    void assertFailedNaming(String... parts) {
      assertEquals(BuildStatus.FAILED, job.status(), this::describe);
      String error = String.valueOf(job.error());
      for (String p : parts) {
        assertTrue(error.contains(p), "error names " + p + ": " + cut(error));
      }
      assertFalse(error.contains(tmp.toString()), "no absolute host path in the error: " + cut(error));
      assertFalse(error.contains("/buildkit/jobs/"), "no absolute host path in the error: " + cut(error));
    }

    void assertNowhere(String canary) {
      assertFalse(String.valueOf(job.error()).contains(canary), "the canary is in the error");
      assertFalse(logs.stream().anyMatch(l -> l.contains(canary)), "the canary is in the log: " + describe());
    }
  }

  private Outcome build(String app, Component component, BuildConfig config) {
    return build(app, component, config, Map.of());
  }

  private Outcome build(String caseName, Component component, BuildConfig config, Map<String, Object> builderExtra) {
    String name = engine.name() + "-" + caseName;
    String app = "itpaths-" + name + "-" + RUN;
    Map<String, Object> builder = new LinkedHashMap<>(Map.of("provider", "buildkit",
        "endpoint", "docker+" + engine.dockerHost(), "dockerConfig", tmp.resolve("no-docker-config.json").toString()));
    builder.putAll(builderExtra);
    ByopConfig cfg = ByopConfig.of(Map.of(
        "dataDir", tmp.resolve("data-" + name).toString(),
        "git", Map.of("allowFile", true),
        "builder", builder,
        "orchestrator", Map.of("workers", 1, "pollInterval", "50ms", "maxAttempts", 1)));
    try (Byop byop = Byop.builder().config(cfg).discover(HostileBuildIT.class.getClassLoader()).build()) {
      byop.store().saveApp(new App(app, app, List.of(component)));
      BuildJob job = byop.orchestrator().await(byop.orchestrator().requestBuild(app, config).id(),
          Duration.ofMinutes(3));
      if (job.image() != null) {
        IMAGES.put(job.image(), engine);
      }
      List<String> logs = new ArrayList<>();
      for (LogLine l : byop.orchestrator().logs(job.id(), 0, 100_000)) {
        logs.add(l.text());
      }
      System.out.println("[" + name + "] " + job.status() + ": " + Outcome.cut(String.valueOf(job.error())));
      return new Outcome(job, logs);
    }
  }

  /** A git repository with these files and symbolic links (link name to target), one commit on main. */
  private Path repo(String name, Map<String, String> files, Map<String, String> links) throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo-" + engine.name() + "-" + name));
    for (Map.Entry<String, String> f : files.entrySet()) {
      Path p = repo.resolve(f.getKey());
      Files.createDirectories(p.getParent());
      Files.writeString(p, f.getValue());
    }
    for (Map.Entry<String, String> l : links.entrySet()) {
      Path p = repo.resolve(l.getKey());
      Files.createDirectories(p.getParent());
      Files.createSymbolicLink(p, Path.of(l.getValue()));
    }
    Cli.ok(repo, "git", "init", "-q", "-b", "main");
    Cli.ok(repo, "git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "add", "-A");
    Cli.ok(repo, "git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "one");
    return repo;
  }

  /** The git cache's directory name for a URL, as GitFetcher derives it (an attacker can compute it too). */
  private static String hash(String url) throws Exception {
    byte[] d = MessageDigest.getInstance("SHA-256").digest(url.getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(d, 0, 12);
  }
}
