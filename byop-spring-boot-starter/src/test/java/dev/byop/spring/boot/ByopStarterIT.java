package dev.byop.spring.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.docker.DockerClient;
import dev.byop.docker.DockerEndpoint;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.TestDatabase;
import dev.byop.testing.Testbed;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.actuate.health.HealthComponent;
import org.springframework.boot.actuate.health.HealthEndpoint;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.actuate.health.SystemHealth;
import org.springframework.boot.actuate.metrics.MetricsEndpoint;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A real Spring Boot application with the starter against the bed: the bed's PostgreSQL as the application's own
 * {@code DataSource} (Spring's auto-configured Hikari pool), BuildKit on the bed's engine found through
 * {@code ServiceLoader}, a real build, then the health and metrics endpoints as the application serves them.
 */
@RequiresTestbed
class ByopStarterIT {
  private static final String RUN = Long.toString(System.currentTimeMillis(), 36);

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class ShopApplication { }

  private static void git(Path dir, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "git " + List.of(args) + ": " + out);
  }

  @Test
  void anApplicationBuildsOnTheBedWithItsOwnPostgresAndReportsHealthAndMetrics(Testbed bed, @TempDir Path tmp)
      throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    Files.writeString(repo.resolve("Dockerfile"), "FROM " + bed.baseImage() + "\nRUN echo starter-" + RUN + " > /s\n");
    git(repo, "init", "-q", "-b", "main");
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "one");
    String app = "ecosystem-starter-" + RUN;
    BuildJob done;
    List<String> images = new ArrayList<>();
    try (TestDatabase db = bed.postgres().createDatabase("ecosystem_starter")) {
      // the application's own table is there first: byop shares the schema with it
      try (Connection c = db.connect()) {
        c.createStatement().execute("CREATE TABLE orders (id INT PRIMARY KEY)");
      }
      done = runApplication(bed, db, tmp, repo, app);
      images.add(done.image());
      // a second start on the same database: byop's tables are there now, and nothing refuses them
      BuildJob again = runApplication(bed, db, tmp, repo, app + "-again");
      images.add(again.image());
      try (Connection c = db.connect(); ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM orders")) {
        assertTrue(rs.next());
      }
    }
    try (DockerClient docker = DockerClient.connect(DockerEndpoint.parse(bed.dockerHost()))) {
      for (String image : images) {
        if (image != null) docker.removeImage(image, true);
      }
    }
  }

  private static BuildJob runApplication(Testbed bed, TestDatabase db, Path tmp, Path repo, String app)
      throws Exception {
    BuildJob done;
    try (ConfigurableApplicationContext ctx = new SpringApplicationBuilder(ShopApplication.class)
             .web(WebApplicationType.NONE)
             .properties(
                 "spring.datasource.url=" + db.jdbcUrl(),
                 "spring.datasource.username=" + db.user(),
                 "spring.datasource.password=" + db.password(),
                 "spring.jmx.enabled=true",
                 "management.endpoints.jmx.exposure.include=health,metrics",
                 "management.endpoint.health.show-details=always",
                 "byop.data-dir=" + tmp.resolve("data"),
                 "byop.git.allow-file=true",
                 "byop.builder.provider=buildkit",
                 "byop.builder.endpoint=docker+" + bed.dockerHost(),
                 "byop.orchestrator.poll-interval=50ms")
             .run()) {
      Byop byop = ctx.getBean(Byop.class);
      byop.store().saveApp(App.of(app, Component.of("web", GitSource.of("file://" + repo), 8080)));
      done = byop.orchestrator().await(byop.orchestrator().requestBuild(app, BuildConfig.defaults()).id(),
          Duration.ofMinutes(3));
      assertEquals(BuildStatus.SUCCESS, done.status(), done.error());

      // the store is the application's PostgreSQL, not an embedded H2 under the data directory
      try (Connection c = db.connect(); ResultSet rs = c.createStatement().executeQuery(
          "SELECT status FROM byop_build_job WHERE id = '" + done.id() + "'")) {
        assertTrue(rs.next());
        assertEquals("SUCCESS", rs.getString(1));
      }
      assertTrue(Files.notExists(tmp.resolve("data").resolve("store")));

      HealthEndpoint health = ctx.getBean(HealthEndpoint.class);
      HealthComponent builder = health.healthForPath("byop", "builder");
      assertEquals(Status.UP, builder.getStatus(), String.valueOf(builder));
      HealthComponent store = health.healthForPath("byop", "store");
      assertEquals(Status.UP, store.getStatus(), String.valueOf(store));
      // no registry is configured (UNKNOWN) and no preview deployer is on this class path (DOWN, saying why)
      assertEquals(Status.DOWN, health.healthForPath("byop", "preview").getStatus());
      System.out.println("health: " + ((SystemHealth) health.health()).getComponents().get("byop"));

      MetricsEndpoint metrics = ctx.getBean(MetricsEndpoint.class);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      double successes = 0;
      while (System.nanoTime() < deadline) {
        var m = metrics.metric("byop.builds", List.of("outcome:success"));
        successes = m == null ? 0 : m.getMeasurements().get(0).getValue();
        if (successes == 1) break;
        TimeUnit.MILLISECONDS.sleep(20);
      }
      assertEquals(1, successes);
      assertEquals(1, metrics.metric("byop.build.phase", List.of("phase:build")).getMeasurements().get(0).getValue());
    }
    return done;
  }
}
