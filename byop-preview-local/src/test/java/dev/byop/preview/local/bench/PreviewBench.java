package dev.byop.preview.local.bench;

import dev.byop.core.App;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import dev.byop.preview.compose.CaddyRouter;
import dev.byop.preview.compose.RouteEndpoint;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.LogSink;
import dev.byop.preview.local.CliImageBuilder;
import dev.byop.preview.local.GitRepo;
import dev.byop.preview.compose.ComposeDeployer;
import dev.byop.preview.compose.CommandResult;
import dev.byop.preview.local.LocalHost;
import dev.byop.preview.local.LocalPreviewDeployerFactory;
import dev.byop.preview.local.TestApps;
import dev.byop.store.jdbc.JdbcStoreFactory;
import dev.byop.testing.Testbed;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Time from {@code createPreview} (images already built) until the preview URL answers through Caddy, beside the
 * baseline: {@code docker-compose up -d} of the very compose file byop wrote, then a {@code curl} loop on the
 * published port until it answers. Both run alternately on the same engine, medians and the ratio are printed.
 *
 * <p>Run (needs the test bed): {@code ./mvnw -q -pl byop-preview-local -am test -Pbench-preview -DskipTests}
 * (optional {@code -Dbench.rounds=7}).
 */
public final class PreviewBench {
  private static final Duration POLL = Duration.ofMillis(20);

  private PreviewBench() {}

  public static void main(String[] args) throws Exception {
    int rounds = Integer.getInteger("bench.rounds", 5);
    Testbed bed = Testbed.get();
    Path data = Files.createTempDirectory("byop-preview-bench");
    String instance = "bench-" + TestApps.newId();
    GitRepo repo = new GitRepo(Files.createDirectories(data.resolve("repo")));
    String commit = repo.commitApp(bed.baseImage(), "bench");
    CliImageBuilder builder = new CliImageBuilder(bed, data);
    List<Long> byop = new ArrayList<>();
    List<Long> running = new ArrayList<>();
    List<Long> compose = new ArrayList<>();
    try (Byop b = Byop.builder().config(ByopConfig.of(config(bed, data, instance)))
        .register(new JdbcStoreFactory()).register(builder.factory()).register(new LocalPreviewDeployerFactory())
        .build()) {
      GitSource src = GitSource.of(repo.url());
      b.store().saveApp(new App("bench", "bench", List.of(
          Component.of("web", src, 8080).withContext("web", "Dockerfile").withHealthPath("/index.html"),
          Component.of("api", src, 8081).withContext("api", "Dockerfile").withHealthPath("/health"))));
      // builds the images once, and keeps them in use so tear-downs of measured previews do not remove them
      Preview holder = b.previews().await(b.previews().createPreview("bench", commit).id(), Duration.ofMinutes(3));
      if (holder.status() != PreviewStatus.RUNNING) throw new IllegalStateException("warm-up failed: " + holder);
      Path composeFile = data.resolve("previews").resolve(ComposeDeployer.projectName(holder.id()))
          .resolve("docker-compose.yml");
      Path baseline = Files.createDirectories(data.resolve("baseline")).resolve("docker-compose.yml");
      Files.copy(composeFile, baseline);
      LocalHost run = new LocalHost(List.of(bed.dockerCli().toString()), data, Map.of("DOCKER_HOST", bed.dockerHost()))
          .inDirectory(baseline.getParent());
      for (int i = 0; i <= rounds; i++) {
        long t0 = System.nanoTime();
        Preview p = b.previews().createPreview("bench", commit);
        URI probe = bed.caddy().httpUri().resolve("/");
        // the preview's own answer, not Caddy's empty 200 for hosts without a route
        RouteEndpoint route = new RouteEndpoint("http://" + p.hostname() + "/", probe, p.hostname(),
            Map.of(CaddyRouter.PREVIEW_HEADER, p.id()));
        while (!route.answers(run, Duration.ofSeconds(2))) {
          Preview now = b.previews().preview(p.id());
          if (now.status() == PreviewStatus.FAILED) throw new IllegalStateException("preview failed: " + now.error());
          Thread.sleep(POLL.toMillis());
        }
        long tByop = System.nanoTime() - t0;
        Preview ran = b.previews().await(p.id(), Duration.ofMinutes(1));
        long tRunning = System.nanoTime() - t0;
        if (ran.status() != PreviewStatus.RUNNING) throw new IllegalStateException("preview not running: " + ran.error());
        if (i == rounds) {
          // where the time went in the last round: the preview's log, in ms since createPreview was called
          java.time.Instant start = java.time.Instant.now().minusNanos(System.nanoTime() - t0);
          for (var line : b.previews().logs(p.id(), 0, 1000)) {
            System.out.printf(Locale.ROOT, "  +%5d ms  %s%n", Duration.between(start, line.time()).toMillis(),
                line.text().length() > 140 ? line.text().substring(0, 140) + "…" : line.text());
          }
          System.out.printf(Locale.ROOT, "  +%5d ms  (the URL answered)%n", tByop / 1_000_000);
        }
        b.previews().deletePreview(p.id());

        String project = "byop-bench-base-" + TestApps.newId();
        long t1 = System.nanoTime();
        check(run.run(List.of("docker-compose", "-p", project, "-f", baseline.toString(), "up", "-d"),
            LogSink.discard(), Duration.ofMinutes(2)));
        String port = check(run.run(List.of("docker-compose", "-p", project, "-f", baseline.toString(), "port", "web",
            "8080"), LogSink.discard(), Duration.ofMinutes(1))).output().stream().filter(l -> l.contains(":"))
            .reduce((a, c) -> c).orElseThrow();
        String url = "http://" + port.trim() + "/";
        while (!run.run(List.of("curl", "-sf", "-o", "/dev/null", "--max-time", "2", url), LogSink.discard(),
            Duration.ofSeconds(5)).ok()) {
          Thread.sleep(POLL.toMillis());
        }
        long tCompose = System.nanoTime() - t1;
        check(run.run(List.of("docker-compose", "-p", project, "-f", baseline.toString(), "down", "--volumes",
            "--timeout", "5"), LogSink.discard(), Duration.ofMinutes(2)));
        if (i == 0) {
          System.out.printf(Locale.ROOT, "warm-up round: byop %.0f ms, docker-compose %.0f ms (not counted)%n",
              tByop / 1e6, tCompose / 1e6);
          continue;
        }
        byop.add(tByop);
        running.add(tRunning);
        compose.add(tCompose);
        System.out.printf(Locale.ROOT, "round %d: byop createPreview->URL answers %.0f ms, ->RUNNING %.0f ms |"
            + " docker-compose up -d + curl loop %.0f ms%n", i, tByop / 1e6, tRunning / 1e6, tCompose / 1e6);
      }
      b.previews().deletePreview(holder.id());
    } finally {
      TestApps.deployer(TestApps.options(bed, "caddy", instance, data.resolve("sweep"), Duration.ofSeconds(5)))
          .sweep(Set.of(), JobContext.of("bench", LogSink.discard()));
      try (var files = Files.walk(data)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
    double mb = median(byop) / 1e6;
    double mc = median(compose) / 1e6;
    System.out.printf(Locale.ROOT, "%nmedian of %d rounds: byop %.0f ms, docker-compose up -d + curl %.0f ms, "
        + "ratio byop/compose = %.2fx (min %.0f vs %.0f ms)%n", rounds, mb, mc, mb / mc,
        Collections.min(byop) / 1e6, Collections.min(compose) / 1e6);
    System.out.printf(Locale.ROOT, "BENCH preview create-to-url ratio=%.3f%n", mb / mc);
    System.out.printf(Locale.ROOT, "BENCH preview create-to-running ratio=%.3f%n", median(running) / 1e6 / mc);
  }

  private static CommandResult check(CommandResult r) {
    if (!r.ok()) throw new IllegalStateException("command failed: " + r.tail(10));
    return r;
  }

  private static double median(List<Long> xs) {
    List<Long> s = new ArrayList<>(xs);
    Collections.sort(s);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2.0;
  }

  private static Map<String, Object> config(Testbed bed, Path data, String instance) {
    Map<String, Object> preview = new LinkedHashMap<>();
    preview.put("provider", "local");
    preview.put("router", "caddy");
    preview.put("instance", instance);
    preview.put("docker", bed.dockerCli().toString());
    preview.put("dockerHost", bed.dockerHost());
    preview.put("imageRepository", "byop-it-preview-bench");
    preview.put("maxPerApp", "3");
    preview.put("sweepInterval", "0s");
    preview.put("caddy", Map.of("admin", bed.caddy().adminUri().toString(), "server", bed.caddy().serverName(),
        "listener", bed.caddy().httpUri().toString(), "publicPort", Integer.toString(bed.caddy().httpUri().getPort()),
        "routeIdPrefix", TestApps.routePrefix(instance)));
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("dataDir", data.toString());
    root.put("preview", preview);
    root.put("git", Map.of("allowFile", "true"));
    root.put("orchestrator", Map.of("pollInterval", "50ms"));
    return root;
  }
}
