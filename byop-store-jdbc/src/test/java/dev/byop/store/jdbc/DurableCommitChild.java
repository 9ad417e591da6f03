package dev.byop.store.jdbc;

import dev.byop.core.BuildStatus;
import dev.byop.core.Secret;
import dev.byop.core.spi.BuildJobStore.BuildTransition;
import dev.byop.core.spi.Store;
import java.time.Duration;
import java.time.Instant;

/**
 * The process {@link H2DurableCommitTest} kills: opens the embedded store (argument: the JDBC URL), takes the one
 * pending job through to SUCCESS, prints {@code committed <id>} once the store has returned from that commit, and waits
 * to be killed.
 */
public final class DurableCommitChild {
  private DurableCommitChild() { }

  public static void main(String[] args) throws Exception {
    Store store = JdbcStoreFactory.open(args[0], "sa", Secret.of(""), null, 2);
    Instant t = Instant.now();
    var job = store.claimBuildJob("child", t, Duration.ofMinutes(5)).orElseThrow();
    store.transitionBuildJob(BuildTransition.of(job.id(), "child", BuildStatus.FETCHING, BuildStatus.BUILDING, t)
        .withResult("0123456789abcdef0123456789abcdef01234567", null, null));
    store.transitionBuildJob(BuildTransition.of(job.id(), "child", BuildStatus.BUILDING, BuildStatus.SUCCESS, t)
        .withResult(null, "byop/shop/web:0123456", "sha256:" + "0".repeat(64)));
    store.appendLog(job.id(), java.util.List.of("the last line"), t);
    System.out.println("committed " + job.id());
    System.out.flush();
    new java.util.concurrent.CountDownLatch(1).await(); // until the test kills this process
  }
}
