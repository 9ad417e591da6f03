package dev.byop.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.ByopException;
import dev.byop.core.Component;
import dev.byop.core.GitSource;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The kit's fakes through a real {@link Byop}: each outcome a test can script ends the build or preview as told. */
@ExtendWith(ByopExtension.class)
class ByopTestKitTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  static void saveShop(Byop byop) {
    byop.store().saveApp(App.of("shop", Component.of("web", GitSource.of("https://git.example.test/shop.git"), 8080)));
  }

  static BuildJob build(Byop byop) {
    saveShop(byop);
    BuildJob job = byop.orchestrator().requestBuild("shop", BuildConfig.defaults());
    return byop.orchestrator().await(job.id(), WAIT);
  }

  @Test
  void unscriptedBuildSucceedsThroughEveryStatusAndIsPushedToTheScriptedRegistry(Byop byop, ByopFakes fakes) {
    BuildJob done = build(byop);
    assertEquals(BuildStatus.SUCCESS, done.status(), done.error());
    assertTrue(done.statusTimes().keySet().containsAll(java.util.List.of(BuildStatus.FETCHING, BuildStatus.BUILDING,
        BuildStatus.PUSHING)), done.statusTimes().toString());
    assertEquals("registry.test/byop/shop/web:" + ScriptedBuilder.COMMIT.substring(0, 12), done.image());
    assertEquals(fakes.registry().tags().get(done.image()), done.digest());
    assertEquals(1, fakes.step(BuildStatus.BUILDING).calls());
  }

  @ParameterizedTest
  @EnumSource(value = BuildStatus.class, names = {"FETCHING", "BUILDING", "PUSHING"})
  void aFailureScriptedAtAStatusEndsTheBuildThereWithTheMessage(BuildStatus at) {
    try (ByopTestKit kit = ByopTestKit.builder().build()) {
      kit.fakes().failAt(at, "scripted failure at " + at);
      BuildJob done = build(kit.byop());
      assertEquals(BuildStatus.FAILED, done.status());
      assertTrue(done.error().contains("scripted failure at " + at), done.error());
      // it got to that status and no further
      assertTrue(done.statusTimes().containsKey(at), done.statusTimes().toString());
      for (BuildStatus later : BuildStatus.values()) {
        if (later.isRunning() && later.ordinal() > at.ordinal()) assertFalse(done.statusTimes().containsKey(later));
      }
      // the next build is not scripted: it succeeds
      BuildJob again = kit.byop().orchestrator().await(
          kit.byop().orchestrator().requestBuild("shop", BuildConfig.defaults()).id(), WAIT);
      assertEquals(BuildStatus.SUCCESS, again.status(), again.error());
    }
  }

  @Test
  void aSlowStepTakesItsTime(Byop byop, ByopFakes fakes) {
    fakes.step(BuildStatus.BUILDING).then(Outcome.slow(Duration.ofMillis(400)));
    BuildJob done = build(byop);
    assertEquals(BuildStatus.SUCCESS, done.status(), done.error());
    Duration building = Duration.between(done.statusTimes().get(BuildStatus.BUILDING),
        done.statusTimes().get(BuildStatus.PUSHING));
    assertTrue(building.toMillis() >= 400, "BUILDING took " + building);
  }

  @Test
  void aHangingStepEndsWhenTheTestCancelsTheBuild(Byop byop, ByopFakes fakes) throws Exception {
    fakes.step(BuildStatus.FETCHING).then(Outcome.hang());
    saveShop(byop);
    BuildJob job = byop.orchestrator().requestBuild("shop", BuildConfig.defaults());
    fakes.step(BuildStatus.FETCHING).awaitCalls(1, WAIT);
    assertEquals(BuildStatus.CANCELLED, byop.orchestrator().cancel(job.id()).status());
    assertEquals(BuildStatus.CANCELLED, byop.orchestrator().await(job.id(), WAIT).status());
    assertEquals(0, fakes.step(BuildStatus.BUILDING).calls());
  }

  @Test
  void aHangingStepEndsAtTheJobTimeout() {
    try (ByopTestKit kit = ByopTestKit.builder().config(Map.of("orchestrator", Map.of("jobTimeout", "300ms")))
        .build()) {
      kit.fakes().step(BuildStatus.BUILDING).always(Outcome.hang());
      BuildJob done = build(kit.byop());
      assertEquals(BuildStatus.FAILED, done.status());
      assertTrue(done.error().contains("timed out"), done.error());
    }
  }

  @Test
  void aPreviewRunsOnTheScriptedHostAndATearDownStopsIt(Byop byop, ByopFakes fakes) {
    saveShop(byop);
    Preview p = byop.previews().await(byop.previews().createPreview("shop").id(), WAIT);
    assertEquals(PreviewStatus.RUNNING, p.status(), p.error());
    assertEquals(ScriptedDeployer.HOST, p.host());
    assertEquals("http://" + p.hostname() + "/", p.url());
    assertTrue(fakes.deployer().running().contains(p.id()));
    Preview stopped = byop.previews().deletePreview(p.id());
    assertEquals(PreviewStatus.STOPPED, byop.previews().await(stopped.id(), WAIT).status());
    assertTrue(fakes.deployer().tornDown().contains(p.id()));
  }

  @Test
  void aPreviewFailureScriptedAtDeployingEndsThePreviewFailed(Byop byop, ByopFakes fakes) {
    fakes.failAt(PreviewStatus.DEPLOYING, "no capacity on the scripted host");
    saveShop(byop);
    Preview p = byop.previews().await(byop.previews().createPreview("shop").id(), WAIT);
    assertEquals(PreviewStatus.FAILED, p.status());
    assertTrue(p.error().contains("no capacity on the scripted host"), p.error());
  }

  @Test
  void closingTheKitClosesByopDropsTheDatabaseAndDeletesTheDataDirectory() throws Exception {
    ByopTestKit kit = ByopTestKit.builder().build();
    saveShop(kit.byop());
    Path dir = kit.dataDir();
    assertTrue(Files.isDirectory(dir));
    kit.close();
    kit.close();
    assertFalse(Files.exists(dir));
    assertThrows(ByopException.class, () -> kit.byop().orchestrator());
    // each kit has its own database: a new one does not see the old app
    try (ByopTestKit other = ByopTestKit.builder().build()) {
      assertTrue(other.byop().store().findApp("shop").isEmpty());
    }
  }

  @Test
  void eachTestGetsItsOwnByop(Byop byop, ByopTestKit kit) {
    assertEquals(kit.byop(), byop);
    assertNull(byop.store().findApp("shop").orElse(null));
  }

  @Test
  void stepsThatDoNotExistAreRefusedNamingTheStatus(ByopFakes fakes) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> fakes.failAt(BuildStatus.SUCCESS, "x"));
    assertTrue(e.getMessage().contains("SUCCESS") && e.getMessage().contains("FETCHING, BUILDING or PUSHING"));
    assertThrows(IllegalArgumentException.class, () -> fakes.failAt(PreviewStatus.RUNNING, "x"));
    assertThrows(IllegalArgumentException.class, () -> new Outcome(Outcome.Kind.FAIL, Duration.ZERO, null));
    assertThrows(IllegalArgumentException.class, () -> Outcome.slow(Duration.ofSeconds(-1)));
  }

  @Test
  void theInMemoryDatabaseIsPrivateToTheKit(ByopTestKit kit) throws Exception {
    // nothing on disk: the data directory holds no database file
    saveShop(kit.byop());
    try (var files = Files.walk(kit.dataDir())) {
      assertTrue(files.noneMatch(f -> f.toString().endsWith(".db")));
    }
    assertThrows(java.sql.SQLException.class, () -> DriverManager.getConnection(
        "jdbc:h2:mem:some-other-name;IFEXISTS=TRUE").close());
  }
}
