package dev.byop.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.docker.DockerClient;
import dev.byop.docker.DockerEndpoint;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The meters on real builds: the BuildKit builder on the bed's engine and the embedded JDBC store, driven through
 * {@link Byop} as a host application does (no registry: images stay in the engine).
 */
@RequiresTestbed
class ByopMetricsIT {
  private static final String RUN = Long.toString(System.currentTimeMillis(), 36);

  private static void git(Path dir, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "git " + List.of(args) + ": " + out);
  }

  private static Path repo(Path dir, String dockerfile) throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("Dockerfile"), dockerfile);
    git(dir, "init", "-q", "-b", "main");
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", "one");
    return dir;
  }

  @Test
  void realBuildsAreCountedByOutcomeAndTimedPerPhase(Testbed bed, @TempDir Path tmp) throws Exception {
    Path ok = repo(tmp.resolve("ok"), "FROM " + bed.baseImage() + "\nRUN echo metrics-" + RUN + " > /m\n");
    Path bad = repo(tmp.resolve("bad"), "FROM " + bed.baseImage() + "\nRUN false\n");
    ByopConfig config = ByopConfig.of(Map.of(
        "dataDir", tmp.resolve("data").toString(),
        "git", Map.of("allowFile", true),
        "builder", Map.of("provider", "buildkit", "endpoint", "docker+" + bed.dockerHost()),
        "orchestrator", Map.of("workers", 2, "pollInterval", "50ms")));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    String app = "ecosystem-metrics-" + RUN;
    BuildJob done;
    BuildJob failed;
    try (Byop byop = Byop.builder().config(config).discover(getClass().getClassLoader()).build();
         ByopMetrics metrics = new ByopMetrics(byop)) {
      metrics.bindTo(registry);
      byop.store().saveApp(new App(app, app, List.of(
          Component.of("web", GitSource.of("file://" + ok), 8080),
          Component.of("broken", GitSource.of("file://" + bad), 8080))));
      var o = byop.orchestrator();
      done = o.await(o.requestBuild(app, BuildConfig.builder().component("web").build()).id(), Duration.ofMinutes(3));
      failed = o.await(o.requestBuild(app, BuildConfig.builder().component("broken").build()).id(),
          Duration.ofMinutes(3));
      assertEquals(0, registry.get("byop.build.queue").gauge().value());
      // listeners run after the store changed: wait for the last one before closing stops them
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (registry.get("byop.builds").tag("outcome", "failed").counter().count() < 1
          && System.nanoTime() < deadline) {
        TimeUnit.MILLISECONDS.sleep(10);
      }
    }
    if (done.image() != null) {
      try (DockerClient docker = DockerClient.connect(DockerEndpoint.parse(bed.dockerHost()))) {
        docker.removeImage(done.image(), true);
      }
    }
    assertEquals(BuildStatus.SUCCESS, done.status(), done.error());
    assertEquals(BuildStatus.FAILED, failed.status());
    assertEquals(1, registry.get("byop.builds").tag("outcome", "success").counter().count());
    assertEquals(1, registry.get("byop.builds").tag("outcome", "failed").counter().count());
    Timer fetch = registry.get("byop.build.phase").tag("phase", "fetch").timer();
    Timer build = registry.get("byop.build.phase").tag("phase", "build").timer();
    assertEquals(2, fetch.count());
    assertEquals(2, build.count());
    assertTrue(build.totalTime(TimeUnit.MILLISECONDS) > 0 && fetch.totalTime(TimeUnit.MILLISECONDS) > 0);
    assertEquals(0, registry.find("byop.build.phase").tag("phase", "push").timers().size());
    System.out.printf("measured: fetch %.0f ms, build %.0f ms (mean of 2)%n", fetch.mean(TimeUnit.MILLISECONDS),
        build.mean(TimeUnit.MILLISECONDS));
  }
}
