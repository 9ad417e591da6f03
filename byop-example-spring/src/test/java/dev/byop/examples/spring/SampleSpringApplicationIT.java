package dev.byop.examples.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * The sample Spring Boot application started for real against the bed: {@code POST /demo} builds the sample app's
 * two components as build jobs and previews them behind the bed's Caddy; {@code /actuator/health} and
 * {@code /actuator/metrics} over HTTP show byop's state; then testcontainers runs the api image byop built (no pull,
 * no Ryuk) with its HTTP wait strategy and a log consumer.
 */
@RequiresTestbed
class SampleSpringApplicationIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String RUN = Long.toString(System.currentTimeMillis(), 36);
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void buildsAndPreviewsTheSampleAndShowsItOnTheActuator(Testbed bed, @TempDir Path data) throws Exception {
    Testbed.Caddy caddy = bed.caddy();
    ConfigurableApplicationContext ctx = new SpringApplicationBuilder(SampleSpringApplication.class).properties(
        "server.port=0",
        "server.address=127.0.0.1",
        "sample.base-image=" + bed.baseImage(),
        "byop.data-dir=" + data,
        "byop.git.allow-file=true",
        "byop.builder.provider=buildkit",
        "byop.builder.endpoint=docker+" + bed.dockerHost(),
        "byop.orchestrator.poll-interval=50ms",
        "byop.preview.provider=local",
        "byop.preview.router=caddy",
        "byop.preview.instance=spring-" + RUN,
        "byop.preview.docker=" + bed.dockerCli(),
        "byop.preview.docker-host=" + bed.dockerHost(),
        "byop.preview.image-repository=byop-it-spring-" + RUN,
        "byop.preview.caddy.admin=" + caddy.adminUri(),
        "byop.preview.caddy.server=" + caddy.serverName(),
        "byop.preview.caddy.listener=" + caddy.httpUri(),
        "byop.preview.caddy.public-port=" + caddy.httpUri().getPort(),
        "byop.preview.caddy.route-id-prefix=byop-spring-" + RUN + "-")
        .run();
    Byop byop = ctx.getBean(Byop.class);
    String previewId = null;
    try {
      URI base = URI.create("http://127.0.0.1:" + ((WebServerApplicationContext) ctx).getWebServer().getPort());
      HttpResponse<String> started = http.send(HttpRequest.newBuilder(base.resolve("/demo"))
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(202, started.statusCode(), started.body());
      previewId = JSON.readTree(started.body()).path("id").asText();
      Preview p = byop.previews().await(previewId, Duration.ofMinutes(5));
      assertEquals(PreviewStatus.RUNNING, p.status(), String.valueOf(p.error()));
      JsonNode shown = get(base, "/demo/" + previewId);
      assertEquals("RUNNING", shown.path("status").asText());
      assertEquals(p.url(), shown.path("url").asText());

      // the preview's components were built as build jobs of the orchestrator
      List<BuildJob> jobs = byop.orchestrator().jobs(p.appId(), 10);
      assertTrue(jobs.stream().filter(j -> j.status() == BuildStatus.SUCCESS).map(BuildJob::component).distinct()
          .count() >= 2, jobs.toString());

      JsonNode health = get(base, "/actuator/health");
      assertEquals("UP", health.path("components").path("byop").path("components").path("builder").path("status")
          .asText(), health.toString());
      assertEquals("UP", health.path("components").path("byop").path("components").path("preview").path("status")
          .asText(), health.toString());
      double builds = 0;
      double running = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (System.nanoTime() < deadline && (builds < 2 || running < 1)) {
        builds = measurement(base, "/actuator/metrics/byop.builds?tag=outcome:success");
        running = measurement(base, "/actuator/metrics/byop.previews?tag=outcome:running");
        Thread.sleep(100);
      }
      assertTrue(builds >= 2, "byop.builds{outcome=success} = " + builds);
      assertTrue(running >= 1, "byop.previews{outcome=running} = " + running);

      // the api image byop built, run by testcontainers as a test of the host application would
      ConcurrentLinkedQueue<String> logs = new ConcurrentLinkedQueue<>();
      String api = p.images().get("api");
      try (GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(api))
          .withImagePullPolicy(image -> false) // byop built it on this engine: never pull
          .withExposedPorts(8081)
          .withEnv("GREETING", "hello from testcontainers " + RUN)
          .withLogConsumer(frame -> logs.add(frame.getUtf8String()))
          .waitingFor(Wait.forHttp("/health").forStatusCode(200).withStartupTimeout(Duration.ofMinutes(1)))) {
        c.start();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + c.getHost() + ":"
            + c.getMappedPort(8081) + "/cgi-bin/hello")).build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(r.body().contains("hello from testcontainers " + RUN), r.body());
      }
      assertTrue(!logs.isEmpty(), "the log consumer saw no output of the api container");
    } finally {
      if (previewId != null) byop.previews().deletePreview(previewId);
      ctx.close();
    }
  }

  private JsonNode get(URI base, String path) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve(path)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), path + ": " + r.body());
    return JSON.readTree(r.body());
  }

  private double measurement(URI base, String path) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve(path)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() == 404) return 0; // not registered yet
    return JSON.readTree(r.body()).path("measurements").path(0).path("value").asDouble();
  }
}
