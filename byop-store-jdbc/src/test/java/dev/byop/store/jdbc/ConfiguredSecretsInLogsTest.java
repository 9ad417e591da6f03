package dev.byop.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.ByopListener;
import dev.byop.core.LogLine;
import dev.byop.core.Preview;
import dev.byop.core.PreviewException;
import dev.byop.core.PreviewStatus;
import dev.byop.core.SecretRef;
import dev.byop.core.spi.ImageBuilder;
import dev.byop.core.spi.ImageBuilderFactory;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.PreviewDeployer;
import dev.byop.core.spi.PreviewDeployerFactory;
import dev.byop.core.spi.ProviderContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The git token and the registry password of the configuration are masked in build logs, in preview logs (build,
 * deploy, tear-down) and in preview errors, through {@link Byop}; the builder and deployer print them as a careless
 * or hostile provider might. Narrow fakes, since what is tested is byop's own log path.
 */
class ConfiguredSecretsInLogsTest {
  private final String token = "tok-" + UUID.randomUUID();
  private final String registryPassword = "reg-" + UUID.randomUUID();
  private final List<String> listened = new CopyOnWriteArrayList<>();

  private final class TalkativeDeployer implements PreviewDeployer {
    volatile boolean fail;

    @Override
    public Deployment deploy(DeployRequest request, JobContext context) {
      context.log().line("docker login -p " + registryPassword + " with token " + token);
      if (fail) throw new PreviewException("compose up failed: password " + registryPassword + " refused");
      return new Deployment("byop.local", "127.0.0.1", "http://" + request.preview().hostname());
    }

    @Override
    public void tearDown(Preview preview, JobContext context) {
      context.log().line("logout " + registryPassword);
    }

    @Override
    public Health status(Preview preview) {
      return new Health(true, Map.of());
    }

    @Override
    public List<String> logs(Preview preview, int tail) {
      return List.of();
    }

    @Override
    public void close() { }
  }

  @Test
  void configuredTokenAndRegistryPasswordAreMaskedInBuildAndPreviewLogs() throws Exception {
    Path dataDir = Files.createTempDirectory("byop-data");
    java.util.concurrent.atomic.AtomicBoolean explode = new java.util.concurrent.atomic.AtomicBoolean();
    FakeBuilder builder = new FakeBuilder() {
      @Override
      public BuildResult build(BuildRequest request, JobContext context) {
        if (explode.get()) throw new IllegalStateException("unexpected: login with " + token + " failed");
        return super.build(request, context);
      }
    };
    builder.secretToLog = token + " and " + registryPassword;
    TalkativeDeployer deployer = new TalkativeDeployer();
    ByopConfig config = ByopConfig.of(Map.of("dataDir", dataDir.toString(),
        "builder", Map.of("provider", "fake", "git", Map.of("username", "ci", "token", SecretRef.value(token))),
        "registry", Map.of("username", "byop", "password", SecretRef.value(registryPassword)),
        "preview", Map.of("provider", "talkative"),
        "orchestrator", Map.of("workers", "1", "lease", "2s", "pollInterval", "20ms", "maxAttempts", 1)));
    // slf4j-simple (the tests' binding) writes to whatever System.err is at the time of each call
    java.io.PrintStream realErr = System.err;
    java.io.ByteArrayOutputStream slf4j = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(slf4j, true, java.nio.charset.StandardCharsets.UTF_8));
    try (Byop byop = Byop.builder().config(config).discover(getClass().getClassLoader())
        .register(FakeBuilder.factory(builder))
        .register(new PreviewDeployerFactory() {
          @Override
          public String id() {
            return "talkative";
          }

          @Override
          public PreviewDeployer create(ProviderContext context) {
            return deployer;
          }
        })
        .listener(new ByopListener() {
          @Override
          public void logLine(LogLine line) {
            listened.add(line.text());
          }
        }).build()) {
      byop.store().saveApp(DbTestBase.app("shop", "web"));
      BuildJob job = byop.orchestrator().await(byop.orchestrator().requestBuild("shop", BuildConfig.defaults()).id(),
          Duration.ofSeconds(20));
      assertEquals(BuildStatus.SUCCESS, job.status(), () -> String.valueOf(job.error()));

      Preview running = byop.previews().await(byop.previews().createPreview("shop").id(), Duration.ofSeconds(20));
      assertEquals(PreviewStatus.RUNNING, running.status(), () -> String.valueOf(running.error()));
      byop.previews().deletePreview(running.id());
      deployer.fail = true;
      Preview failed = byop.previews().await(byop.previews().createPreview("shop").id(), Duration.ofSeconds(20));
      assertEquals(PreviewStatus.FAILED, failed.status());

      explode.set(true);
      BuildJob exploded = byop.orchestrator().await(byop.orchestrator().requestBuild("shop", BuildConfig.defaults())
          .id(), Duration.ofSeconds(20));
      assertEquals(BuildStatus.FAILED, exploded.status());
      assertEquals("unexpected: login with ****** failed", exploded.error());

      List<String> all = new ArrayList<>(listened);
      for (String id : List.of(job.id(), running.id(), failed.id())) {
        byop.store().readLog(id, 0, 1000).forEach(l -> all.add(l.text()));
      }
      all.add(failed.error());
      assertTrue(all.stream().anyMatch(l -> l.contains("using secret ****** and ******")), all::toString);
      assertTrue(all.stream().anyMatch(l -> l.contains("docker login -p ****** with token ******")), all::toString);
      assertTrue(all.stream().anyMatch(l -> l.equals("logout ******")), all::toString);
      assertTrue(failed.error().contains("password ****** refused"), failed.error());
      List<String> leaks = all.stream().filter(l -> l.contains(token) || l.contains(registryPassword)).toList();
      assertEquals(List.of(), leaks);
    } finally {
      System.setErr(realErr);
    }
    String logged = slf4j.toString(java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(logged.contains("build job") && logged.contains("failed unexpectedly")
        && logged.contains("java.lang.IllegalStateException: unexpected: login with ****** failed"), logged);
    assertTrue(logged.contains("dev.byop.core.PreviewException: compose up failed: password ****** refused"), logged);
    assertTrue(!logged.contains(token) && !logged.contains(registryPassword), logged);
  }
}
