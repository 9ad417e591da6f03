package dev.byop.store.jdbc;

import dev.byop.core.ByopConfig;
import dev.byop.core.ByopListener;
import dev.byop.core.Secret;
import dev.byop.core.internal.DefaultBuildOrchestrator;
import dev.byop.core.spi.Store;
import java.time.Clock;
import java.time.Duration;

/**
 * The process the crash test kills: an orchestrator whose builder hangs in BUILDING. Arguments: JDBC URL, user,
 * schema (or {@code -}), lease in milliseconds, instance id; the password comes in {@code BYOP_TEST_DB_PASSWORD}.
 */
public final class CrashChild {
  private CrashChild() { }

  public static void main(String[] args) throws Exception {
    String schema = args[2].equals("-") ? null : args[2];
    Store store = JdbcStoreFactory.open(args[0], args[1], Secret.of(System.getenv("BYOP_TEST_DB_PASSWORD")), schema,
        4);
    FakeBuilder builder = new FakeBuilder();
    builder.blockIn = FakeBuilder.Step.BUILD;
    builder.ignoreCancellation = true;
    var tuning = new ByopConfig.Orchestrator(1, Duration.ofMillis(Long.parseLong(args[3])), 3, Duration.ofMinutes(5),
        Duration.ofMillis(20));
    new DefaultBuildOrchestrator(store, builder, null,
        new DefaultBuildOrchestrator.Options(tuning, null, null, args[4], Duration.ofMillis(20)),
        new ByopListener() { }, Clock.systemUTC());
    System.out.println("child orchestrator started");
    new java.util.concurrent.CountDownLatch(1).await(); // until the test kills this process
  }
}
