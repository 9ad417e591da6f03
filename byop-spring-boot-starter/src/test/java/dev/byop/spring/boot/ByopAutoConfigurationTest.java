package dev.byop.spring.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.byop.core.App;
import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.ByopException;
import dev.byop.core.ByopListener;
import dev.byop.core.Component;
import dev.byop.core.ConfigException;
import dev.byop.core.GitSource;
import dev.byop.core.spi.ImageBuilder;
import dev.byop.core.spi.ImageBuilderFactory;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.ProviderContext;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.actuate.health.CompositeHealthContributor;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The auto-configuration's wiring, with {@link ApplicationContextRunner}. */
class ByopAutoConfigurationTest {
  @TempDir Path tmp;

  private ApplicationContextRunner runner() {
    return new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(ByopAutoConfiguration.class))
        .withPropertyValues("byop.dataDir=" + tmp.resolve("data"));
  }

  private static DataSource h2(Path file) {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:file:" + file.toAbsolutePath());
    return ds;
  }

  private static boolean hasByopTables(DataSource ds) throws Exception {
    try (Connection c = ds.getConnection();
         ResultSet rs = c.getMetaData().getTables(null, null, "BYOP_BUILD_JOB", null)) {
      return rs.next();
    }
  }

  private static Throwable rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) c = c.getCause();
    return c;
  }

  /** A builder that builds nothing, as an application's own provider bean. */
  static ImageBuilderFactory beanBuilder() {
    return new ImageBuilderFactory() {
      @Override
      public String id() {
        return "bean-builder";
      }

      @Override
      public ImageBuilder create(ProviderContext context) {
        return new ImageBuilder() {
          @Override
          public BuilderCapabilities capabilities() {
            return new BuilderCapabilities("bean", "7", List.of("linux/amd64"), false, Map.of());
          }

          @Override
          public SourceCheckout fetchSource(FetchRequest request, JobContext c) {
            return new SourceCheckout(Path.of("."), Path.of("."), "ab".repeat(20));
          }

          @Override
          public BuildResult build(BuildRequest request, JobContext c) {
            return new BuildResult(request.image(), "sha256:" + "c".repeat(64), Optional.empty());
          }

          @Override
          public void close() { }
        };
      }
    };
  }

  @Test
  void theKeysOfByopYmlConfigureTheBeanInCamelOrKebabCase() {
    runner().withPropertyValues("byop.orchestrator.workers=3", "byop.orchestrator.max-attempts=5",
        "byop.orchestrator.lease=2s", "byop.git.allow-http=true").run(ctx -> {
          Byop byop = ctx.getBean(Byop.class);
          assertEquals(3, byop.config().orchestrator().workers());
          assertEquals(5, byop.config().orchestrator().maxAttempts());
          assertEquals(Duration.ofSeconds(2), byop.config().orchestrator().lease());
          assertEquals(tmp.resolve("data"), byop.config().dataDir());
        });
  }

  @Test
  void listsAndSecretReferencesMapAsInYaml() {
    var env = new org.springframework.mock.env.MockEnvironment()
        .withProperty("byop.cloud.provider", "static")
        .withProperty("byop.cloud.hosts[0].id", "a")
        .withProperty("byop.cloud.hosts[1].id", "b")
        .withProperty("byop.registry.password.env", "REG_PW");
    Map<String, Object> tree = ByopEnvironment.subtree(env);
    assertEquals(Map.of("provider", "static", "hosts", List.of(Map.of("id", "a"), Map.of("id", "b"))),
        tree.get("cloud"));
    assertEquals(Map.of("password", Map.of("env", "REG_PW")), tree.get("registry"));
  }

  @Test
  void anInlineSecretIsRefusedNamingTheKeyAndNeverShowingTheValue() {
    String canary = "hunter2-canary-7c1";
    runner().withPropertyValues("byop.store.url=jdbc:postgresql://127.0.0.1:1/x", "byop.store.user=u",
        "byop.store.password=" + canary).run(ctx -> {
          Throwable failure = ctx.getStartupFailure();
          assertNotNull(failure);
          Throwable root = rootCause(failure);
          assertInstanceOf(ConfigException.class, root, String.valueOf(root));
          assertTrue(root.getMessage().contains("password"), root.getMessage());
          for (Throwable t = failure; t != null; t = t.getCause()) {
            assertFalse(String.valueOf(t.getMessage()).contains(canary), "the secret is in: " + t.getMessage());
          }
        });
  }

  @Test
  void anUnknownKeyIsRefusedNamingIt() {
    runner().withPropertyValues("byop.orchestrater.workers=1").run(ctx -> {
      Throwable root = rootCause(ctx.getStartupFailure());
      assertInstanceOf(ConfigException.class, root);
      assertTrue(root.getMessage().contains("orchestrater"), root.getMessage());
    });
  }

  @Test
  void bothSpellingsOfOneKeyAreRefusedNamingBoth() {
    runner().withPropertyValues("byop.orchestrator.max-attempts=2", "byop.orchestrator.maxAttempts=9").run(ctx -> {
      Throwable root = rootCause(ctx.getStartupFailure());
      assertInstanceOf(ConfigException.class, root);
      assertTrue(root.getMessage().contains("byop.orchestrator.max-attempts")
          && root.getMessage().contains("byop.orchestrator.maxAttempts"), root.getMessage());
    });
  }

  @Test
  void theApplicationsDataSourceHoldsTheStoreAndStaysOpenAfterTheContext() throws Exception {
    DataSource ds = h2(tmp.resolve("app-db"));
    // the application's own table is there first: byop shares the schema (its own history table, baselined at 0)
    try (Connection c = ds.getConnection()) {
      c.createStatement().execute("CREATE TABLE orders (id INT PRIMARY KEY)");
    }
    runner().withBean(DataSource.class, () -> ds).run(ctx -> {
      Byop byop = ctx.getBean(Byop.class);
      byop.store().saveApp(App.of("shop", Component.of("web", GitSource.of("https://git.example/s.git"), 8080)));
      assertTrue(hasByopTables(ds));
      assertFalse(Files.exists(tmp.resolve("data").resolve("store")), "byop made its own database too");
    });
    try (Connection c = ds.getConnection(); ResultSet rs = c.createStatement().executeQuery(
        "SELECT COUNT(*) FROM byop_app")) {
      assertTrue(rs.next());
      assertEquals(1, rs.getInt(1));
    }
  }

  @Test
  void withoutADataSourceTheDiscoveredStoreUsesEmbeddedH2UnderTheDataDir() {
    runner().run(ctx -> {
      ctx.getBean(Byop.class);
      assertTrue(Files.exists(tmp.resolve("data").resolve("store").resolve("byop.mv.db")));
    });
  }

  @Test
  void aConfiguredStoreUrlWinsOverTheApplicationsDataSource() throws Exception {
    DataSource ds = h2(tmp.resolve("app-db"));
    runner().withBean(DataSource.class, () -> ds)
        .withPropertyValues("byop.store.url=jdbc:h2:file:" + tmp.resolve("own").toAbsolutePath()).run(ctx -> {
          ctx.getBean(Byop.class);
          assertTrue(Files.exists(tmp.resolve("own.mv.db")));
        });
    assertFalse(hasByopTables(ds));
  }

  @Test
  void poolSettingsWithTheApplicationsDataSourceAreRefusedNamingTheKey() {
    runner().withBean(DataSource.class, () -> h2(tmp.resolve("app-db")))
        .withPropertyValues("byop.store.pool-size=4").run(ctx -> {
          Throwable root = rootCause(ctx.getStartupFailure());
          assertTrue(root.getMessage().contains("poolSize"), root.getMessage());
        });
  }

  @Test
  void providerAndListenerBeansAreUsed() {
    List<BuildStatus> seen = new CopyOnWriteArrayList<>();
    runner().withBean("myBuilder", ImageBuilderFactory.class, ByopAutoConfigurationTest::beanBuilder)
        .withBean(ByopListener.class, () -> new ByopListener() {
          @Override
          public void buildStatusChanged(BuildJob job, BuildStatus from) {
            seen.add(job.status());
          }
        })
        .withPropertyValues("byop.orchestrator.poll-interval=20ms").run(ctx -> {
          Byop byop = ctx.getBean(Byop.class);
          assertEquals("bean-builder", byop.describeProviders().get(1).id());
          byop.store().saveApp(App.of("shop", Component.of("web", GitSource.of("https://git.example/s.git"), 8080)));
          BuildJob done = byop.orchestrator().await(byop.orchestrator().requestBuild("shop", BuildConfig.defaults())
              .id(), Duration.ofSeconds(20));
          assertEquals(BuildStatus.SUCCESS, done.status(), done.error());
        });
    // the context is closed: the worker that announced SUCCESS has stopped
    assertTrue(seen.contains(BuildStatus.SUCCESS), seen.toString());
  }

  @Test
  void byopIsClosedWithTheContext() {
    List<Byop> made = new ArrayList<>();
    runner().run(ctx -> made.add(ctx.getBean(Byop.class)));
    assertThrows(ByopException.class, () -> made.get(0).orchestrator());
  }

  @Test
  void anApplicationsOwnByopBeanIsKept() {
    runner().withBean("mine", Byop.class, () -> Byop.builder().discover(getClass().getClassLoader())
        .config(dev.byop.core.ByopConfig.of(Map.of("dataDir", tmp.resolve("mine").toString()))).build())
        .run(ctx -> {
          assertEquals(1, ctx.getBeansOfType(Byop.class).size());
          assertTrue(ctx.containsBean("mine"));
        });
  }

  private static Health health(CompositeHealthContributor byop, String name) {
    return ((HealthIndicator) byop.getContributor(name)).health();
  }

  @Test
  void healthSaysPerProviderWhatIsInUseAndWhatIsWrong() {
    runner().withPropertyValues("byop.builder.provider=none-such", "byop.preview.provider=none-such").run(ctx -> {
      CompositeHealthContributor h = ctx.getBean("byopHealthContributor", CompositeHealthContributor.class);
      Health store = health(h, "store");
      assertEquals(Status.UP, store.getStatus(), store.toString());
      assertEquals("jdbc", store.getDetails().get("provider"));
      assertEquals(0L, store.getDetails().get("pendingBuilds"));
      // a provider that does not exist: DOWN, with every candidate and why it was passed over
      Health builder = health(h, "builder");
      assertEquals(Status.DOWN, builder.getStatus(), builder.toString());
      assertTrue(String.valueOf(builder.getDetails().get("error")).contains("none-such"), builder.toString());
      Map<?, ?> rejected = (Map<?, ?>) builder.getDetails().get("rejected");
      assertTrue(String.valueOf(rejected.get("buildkit")).contains("none-such"), builder.toString());
      assertEquals(Status.DOWN, health(h, "preview").getStatus());
      assertEquals(Status.UNKNOWN, health(h, "registry").getStatus());
      List<String> names = new ArrayList<>();
      h.forEach(n -> names.add(n.getName()));
      assertEquals(List.of("store", "builder", "registry", "preview"), names);
    });
    runner().withBean(ImageBuilderFactory.class, ByopAutoConfigurationTest::beanBuilder).run(ctx -> {
      Health builder = health(ctx.getBean("byopHealthContributor", CompositeHealthContributor.class), "builder");
      assertEquals(Status.UP, builder.getStatus(), builder.toString());
      assertEquals("bean-builder", builder.getDetails().get("provider"));
      assertEquals("7", builder.getDetails().get("version"));
    });
  }

  @Test
  void byopMetersAreBoundToTheApplicationsMeterRegistry() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
            CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class,
            ByopAutoConfiguration.class))
        .withPropertyValues("byop.dataDir=" + tmp.resolve("data")).run(ctx -> {
          MeterRegistry registry = ctx.getBean(MeterRegistry.class);
          assertNotNull(registry.find("byop.build.queue").gauge(), registry.getMeters().toString());
          assertEquals(0, registry.get("byop.builds").tag("outcome", "success").counter().count());
        });
  }

  @Test
  void everyDocumentedKeyIsOneByopAcceptsAndTheDefaultsStartAContext() throws Exception {
    JsonNode meta;
    try (InputStream in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
      meta = new ObjectMapper().readTree(in);
    }
    List<String> defaults = new ArrayList<>();
    for (JsonNode p : meta.get("properties")) {
      String name = p.get("name").asText();
      assertTrue(name.matches("byop(\\.[a-z][a-z0-9-]*)+"), "kebab-case: " + name);
      // keys byop-core itself checks: every documented default must be accepted as it is written
      if (p.has("defaultValue") && name.matches("byop\\.(orchestrator|git|data-dir|preview)\\b.*")) {
        String value = p.get("defaultValue").asText();
        defaults.add(name + "=" + (name.equals("byop.data-dir") ? tmp.resolve("d") : value));
      }
    }
    assertTrue(defaults.size() >= 10, defaults.toString());
    new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ByopAutoConfiguration.class))
        .withPropertyValues(defaults.toArray(String[]::new)).run(ctx -> {
          assertFalse(ctx.getStartupFailure() != null, () -> String.valueOf(ctx.getStartupFailure()));
          Byop byop = ctx.getBean(Byop.class);
          assertEquals(2, byop.config().orchestrator().workers());
          assertEquals(Duration.ofMinutes(30), byop.config().orchestrator().jobTimeout());
          byop.previews(); // the preview section's documented defaults pass its own checks
        });
  }

  @Test
  void springsOwnFlywayIsOffByDefaultUnlessTheApplicationHasMigrationsOrSaysSo() {
    var plain = new org.springframework.mock.env.MockEnvironment();
    FlywayDefault.apply(plain, getClass().getClassLoader());
    assertEquals("false", plain.getProperty("spring.flyway.enabled"));
    var own = new org.springframework.mock.env.MockEnvironment().withProperty("spring.flyway.locations", "classpath:x");
    FlywayDefault.apply(own, getClass().getClassLoader());
    assertEquals(null, own.getProperty("spring.flyway.enabled"));
    var on = new org.springframework.mock.env.MockEnvironment().withProperty("spring.flyway.enabled", "true");
    FlywayDefault.apply(on, getClass().getClassLoader());
    assertEquals("true", on.getProperty("spring.flyway.enabled"));
  }
}
