package dev.byop.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The main job on the test bed: the first run builds the sample app and starts its preview behind the bed's Caddy;
 * the second run reuses the repository, the app, both images and the running preview and says so; stop tears it down.
 * On each engine of the bed's matrix, as {@code scripts/example --engine <name>} runs it: the 26.1 engines with
 * Compose v2, their socket, CLI config and the address their ports are published on.
 */
@RequiresTestbed
class MainIT {
  private static String run(String... args) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
    int code = new Main(out, false).run(args);
    String text = buf.toString(StandardCharsets.UTF_8);
    System.out.println(text);
    assertEquals(0, code, text);
    return text;
  }

  static Stream<Testbed.Engine> engines() {
    return Testbed.get().engines().stream();
  }

  /** The options {@code scripts/example --engine} passes for an engine of the bed. */
  static List<String> engineOptions(Testbed.Engine engine) {
    List<String> o = new ArrayList<>(List.of("--docker", engine.cli().toString()));
    if (!engine.name().equals(Testbed.Engine.DOCKER20)) {
      o.addAll(List.of("--docker-host", engine.dockerHost(), "--publish-address", engine.address()));
      if (engine.cliConfig() != null) o.addAll(List.of("--docker-config", engine.cliConfig().toString()));
    }
    return o;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("engines")
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void buildsAndPreviewsTheSampleThenReusesEverythingOnASecondRun(Testbed.Engine engine, @TempDir Path dir)
      throws Exception {
    String app = "examples-main-" + UUID.randomUUID().toString().substring(0, 6);
    List<String> argList = new ArrayList<>(List.of("--data", dir.toString(), "--app", app, "--pull", "never",
        "--router", "caddy"));
    argList.addAll(engineOptions(engine));
    String[] args = argList.toArray(String[]::new);
    List<String> docker = new ArrayList<>(List.of(engine.cli().toString(), "--host", engine.dockerHost()));
    try {
      String first = run(args);
      assertTrue(first.contains("router: caddy"), first);
      assertTrue(first.contains("store:    jdbc") && first.contains("builder:  buildkit")
          && first.contains("preview:  local"), first);
      assertTrue(first.contains("web: built byop/" + app + "/web:") && first.contains("api: built byop/" + app + "/api:"),
          first);
      assertTrue(first.contains("web | ") && first.contains("api: warming up"), "live build log lines:\n" + first);
      assertTrue(first.contains("preview: DEPLOYING -> RUNNING") && first.contains("URL:   http://" + app + "-"), first);
      assertTrue(first.contains(engine.composeV2() ? "with docker compose (v2)" : "with docker-compose (v1)"),
          "the compose of " + engine + " is used:\n" + first);
      assertEquals(2, Commands.run(concat(docker, "ps", "-q", "--filter", "label=dev.byop.app=" + app), null,
          java.time.Duration.ofMinutes(1)).output().strip().split("\n").length, "the preview runs on " + engine);

      String second = run(args);
      assertTrue(second.contains("(unchanged since the last run, reused)"), second);
      assertTrue(second.contains("is in the store unchanged (reused)"), second);
      assertTrue(second.contains("web: image byop/" + app + "/web:") && second.contains("(reused, not built again)"),
          second);
      assertTrue(second.contains("already runs this commit (reused)"), second);

      String stop = run(concat(args, "stop"));
      assertTrue(stop.contains("STOPPED"), stop);
    } finally {
      Commands.Result images = Commands.run(concat(docker, "images", "--format", "{{.Repository}}:{{.Tag}}"), null,
          java.time.Duration.ofMinutes(1));
      List<String> mine = concat(docker, "rmi", "-f");
      for (String i : images.output().split("\n")) {
        if (i.startsWith("byop/" + app + "/")) mine.add(i.strip());
      }
      if (mine.size() > docker.size() + 2) Commands.run(mine, null, java.time.Duration.ofMinutes(2));
    }
  }

  private static List<String> concat(List<String> prefix, String... args) {
    List<String> all = new ArrayList<>(prefix);
    all.addAll(List.of(args));
    return all;
  }

  private static String[] concat(String[] args, String command) {
    List<String> all = new ArrayList<>(List.of(command));
    all.addAll(List.of(args));
    return all.toArray(String[]::new);
  }
}
