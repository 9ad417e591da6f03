package dev.byop.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.testing.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A child JVM running an orchestrator is killed with SIGKILL while its job is BUILDING; this JVM's orchestrator takes
 * the job after the lease expires and finishes it, or fails it with the reason when the attempts are used up.
 */
public abstract class CrashRecoveryContract extends OrchestratorTestBase {
  static final Duration LEASE = Duration.ofMillis(500);
  /** The child is a cold JVM on a busy machine: a longer lease keeps it from losing the job before it is killed. */
  static final Duration CHILD_LEASE = Duration.ofSeconds(2);

  private BuildJob startAndKillChildWhileBuilding() throws Exception {
    BuildJob job = store.createBuildJob("shop", "web", BuildConfig.defaults(), Instant.now());
    ChildJvm child = ChildJvm.start(CrashChild.class, List.of(db.url(), db.user(),
        db.schema() == null ? "-" : db.schema(), String.valueOf(CHILD_LEASE.toMillis()), "child"),
        Map.of("BYOP_TEST_DB_PASSWORD", db.password().reveal()), Path.of("target", "crash-child-" + job.id() + ".log"));
    int exit;
    try {
      waitFor("the child to reach BUILDING", Duration.ofSeconds(60), () -> {
        child.checkAlive();
        return store.findBuildJob(job.id()).orElseThrow().status() == BuildStatus.BUILDING;
      });
    } finally {
      exit = child.kill(); // SIGKILL
    }
    BuildJob stranded = store.findBuildJob(job.id()).orElseThrow();
    assertEquals(BuildStatus.BUILDING, stranded.status());
    assertEquals("child/1", stranded.leaseOwner());
    assertEquals(137, exit, "killed by SIGKILL");
    return stranded;
  }

  @Test
  void anotherInstanceFinishesTheJobAfterTheLease() throws Exception {
    BuildJob stranded = startAndKillChildWhileBuilding();
    FakeBuilder builder = new FakeBuilder();
    var o = orchestrator(store, builder, null, null, 1, LEASE, Duration.ofSeconds(20), 3, null);
    BuildJob done = o.await(stranded.id(), Duration.ofSeconds(30));
    assertEquals(BuildStatus.SUCCESS, done.status(), () -> String.valueOf(done.error()));
    // a cold child JVM may lose its first lease before BUILDING and claim again, so count from what it left
    assertEquals(stranded.attempt() + 1, done.attempt());
    assertTrue(done.leaseOwner() == null);
    assertEquals(1, builder.builds.get(stranded.id()).get());
    waitFor("recovery event", Duration.ofSeconds(5),
        () -> transitions.contains(stranded.id() + " BUILDING->PENDING"));
  }

  @Test
  void withAttemptsUsedUpTheJobFailsWithTheReason() throws Exception {
    BuildJob stranded = startAndKillChildWhileBuilding();
    FakeBuilder builder = new FakeBuilder();
    int used = stranded.attempt();
    var o = orchestrator(store, builder, null, null, 1, LEASE, Duration.ofSeconds(20), used, null);
    BuildJob done = o.await(stranded.id(), Duration.ofSeconds(30));
    assertEquals(BuildStatus.FAILED, done.status());
    assertTrue(done.error().startsWith("lease expired " + used + " time" + (used == 1 ? "" : "s")
        + " (worker child/1 lost while BUILDING)"), done.error());
    assertFalse(builder.builds.containsKey(stranded.id()));
  }
}
