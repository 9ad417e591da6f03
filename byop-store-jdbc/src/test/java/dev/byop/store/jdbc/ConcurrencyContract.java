package dev.byop.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.ByopConfig;
import dev.byop.core.ByopListener;
import dev.byop.core.internal.DefaultBuildOrchestrator;
import dev.byop.core.spi.Store;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Four orchestrator instances, each with its own connection pool (as separate processes would have), share one
 * database: 2,000 jobs over several apps of two components are each executed exactly once, none is lost, the order
 * per (app, component) is kept, and two builds of one component never overlap.
 */
public abstract class ConcurrencyContract extends DbTestBase {
  static final int INSTANCES = 4;
  static final int JOBS = 2000;

  /** How many jobs to push through; PostgreSQL takes the full 2,000. */
  protected int jobs() {
    return JOBS;
  }
  static final int APPS = 25;

  @Test
  void fourInstancesRunEveryJobExactlyOnceInPerComponentOrder() {
    for (int a = 0; a < APPS; a++) store.saveApp(app("app" + a, "web", "api"));
    FakeBuilder builder = new FakeBuilder(); // shared, so it sees every execution of every instance
    Map<String, List<String>> requested = new LinkedHashMap<>();
    Instant t = Instant.now();
    for (int i = 0; i < jobs(); i++) {
      String appId = "app" + (i % APPS);
      String component = (i / APPS) % 2 == 0 ? "web" : "api";
      BuildJob j = store.createBuildJob(appId, component, BuildConfig.defaults(), t);
      requested.computeIfAbsent(appId + " " + component, k -> new ArrayList<>()).add(j.id());
    }
    AtomicInteger finished = new AtomicInteger();
    ByopListener counter = new ByopListener() {
      @Override
      public void buildStatusChanged(BuildJob job, BuildStatus from) {
        if (job.status().isTerminal()) finished.incrementAndGet();
      }
    };
    List<DefaultBuildOrchestrator> instances = new ArrayList<>();
    for (int i = 0; i < INSTANCES; i++) {
      Store own = db.open(6);
      toClose.add(own);
      var tuning = new ByopConfig.Orchestrator(4, Duration.ofSeconds(10), 3, Duration.ofMinutes(1),
          Duration.ofMillis(20));
      var o = new DefaultBuildOrchestrator(own, builder, null,
          new DefaultBuildOrchestrator.Options(tuning, null, null, "instance" + i, Duration.ofMillis(20)), counter,
          Clock.systemUTC());
      toClose.add(o);
      instances.add(o);
    }
    waitFor("all jobs to finish", Duration.ofSeconds(240), () -> finished.get() >= jobs());

    Map<BuildStatus, Long> byStatus = new LinkedHashMap<>();
    for (var e : requested.entrySet()) {
      for (String id : e.getValue()) byStatus.merge(store.findBuildJob(id).orElseThrow().status(), 1L, Long::sum);
    }
    assertEquals(Map.of(BuildStatus.SUCCESS, (long) jobs()), byStatus);
    assertEquals(jobs(), builder.builds.size(), "every job built");
    assertEquals(List.of(1), builder.builds.values().stream().map(AtomicInteger::get).distinct()
        .collect(Collectors.toList()), "each job built exactly once");
    assertEquals(0, builder.overlaps.get(), "two builds of one component overlapped");
    for (var e : requested.entrySet()) {
      String prefix = e.getKey() + " ";
      List<String> order = builder.buildOrder.stream().filter(s -> s.startsWith(prefix))
          .map(s -> s.substring(prefix.length())).collect(Collectors.toList());
      assertEquals(e.getValue(), order, "build order of " + e.getKey());
    }
  }
}
