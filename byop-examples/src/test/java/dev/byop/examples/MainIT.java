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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The main job on the test bed: the first run builds the sample app and starts its preview behind the bed's Caddy;
 * the second run reuses the repository, the app, both images and the running preview and says so; stop tears it down.
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

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void buildsAndPreviewsTheSampleThenReusesEverythingOnASecondRun(Testbed bed, @TempDir Path dir) throws Exception {
    String app = "examples-main-" + UUID.randomUUID().toString().substring(0, 6);
    String[] args = {"--data", dir.toString(), "--app", app, "--pull", "never", "--router", "caddy",
        "--docker", bed.dockerCli().toString()};
    try {
      String first = run(args);
      assertTrue(first.contains("router: caddy"), first);
      assertTrue(first.contains("store:    jdbc") && first.contains("builder:  buildkit")
          && first.contains("preview:  local"), first);
      assertTrue(first.contains("web: built byop/" + app + "/web:") && first.contains("api: built byop/" + app + "/api:"),
          first);
      assertTrue(first.contains("web | ") && first.contains("api: warming up"), "live build log lines:\n" + first);
      assertTrue(first.contains("preview: DEPLOYING -> RUNNING") && first.contains("URL:   http://" + app + "-"), first);

      String second = run(args);
      assertTrue(second.contains("(unchanged since the last run, reused)"), second);
      assertTrue(second.contains("is in the store unchanged (reused)"), second);
      assertTrue(second.contains("web: image byop/" + app + "/web:") && second.contains("(reused, not built again)"),
          second);
      assertTrue(second.contains("already runs this commit (reused)"), second);

      String stop = run(concat(args, "stop"));
      assertTrue(stop.contains("STOPPED"), stop);
    } finally {
      List<String> rmi = new ArrayList<>(List.of(bed.dockerCli().toString(), "images", "--format",
          "{{.Repository}}:{{.Tag}}"));
      Commands.Result images = Commands.run(rmi, null, java.time.Duration.ofMinutes(1));
      List<String> mine = new ArrayList<>(List.of(bed.dockerCli().toString(), "rmi", "-f"));
      for (String i : images.output().split("\n")) {
        if (i.startsWith("byop/" + app + "/")) mine.add(i.strip());
      }
      if (mine.size() > 3) Commands.run(mine, null, java.time.Duration.ofMinutes(2));
    }
  }

  private static String[] concat(String[] args, String command) {
    List<String> all = new ArrayList<>(List.of(command));
    all.addAll(List.of(args));
    return all.toArray(String[]::new);
  }
}
