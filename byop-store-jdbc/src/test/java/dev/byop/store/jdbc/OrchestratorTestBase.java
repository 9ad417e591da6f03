package dev.byop.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.ByopConfig;
import dev.byop.core.ByopListener;
import dev.byop.core.Credentials;
import dev.byop.core.IllegalTransitionException;
import dev.byop.core.LogLine;
import dev.byop.core.SecretRef;
import dev.byop.core.StoreException;
import dev.byop.core.internal.DefaultBuildOrchestrator;
import dev.byop.core.spi.BuildJobStore.BuildTransition;
import dev.byop.core.spi.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What the orchestrator tests share: two apps, an event recorder, and orchestrators with short leases. */
public abstract class OrchestratorTestBase extends DbTestBase {
  protected static final String REGISTRY = "127.0.0.1:5000";
  protected final Queue<String> transitions = new ConcurrentLinkedQueue<>();
  protected final Queue<LogLine> listenerLines = new ConcurrentLinkedQueue<>();
  protected final ByopListener events = new ByopListener() {
    @Override
    public void buildStatusChanged(BuildJob job, BuildStatus from) {
      transitions.add(job.id() + " " + from + "->" + job.status());
    }

    @Override
    public void logLine(LogLine line) {
      listenerLines.add(line);
    }
  };

  @BeforeEach
  void apps() {
    store.saveApp(app("shop", "web", "api"));
    store.saveApp(app("blog", "web"));
  }

  protected DefaultBuildOrchestrator orchestrator(Store s, FakeBuilder b, FakeRegistry r, String registry, int workers,
      Duration lease, Duration timeout, int maxAttempts, Credentials creds) {
    var tuning = new ByopConfig.Orchestrator(workers, lease, maxAttempts, timeout, Duration.ofMillis(20));
    var o = new DefaultBuildOrchestrator(s, b, r,
        new DefaultBuildOrchestrator.Options(tuning, registry, creds, null, Duration.ofMillis(20)), events,
        Clock.systemUTC());
    toClose.add(o);
    return o;
  }

  protected DefaultBuildOrchestrator orchestrator(FakeBuilder b, FakeRegistry r, String registry) {
    return orchestrator(store, b, r, registry, 2, Duration.ofMillis(500), Duration.ofSeconds(20), 3, null);
  }

}
