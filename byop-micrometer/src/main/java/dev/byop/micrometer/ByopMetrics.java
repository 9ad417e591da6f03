package dev.byop.micrometer;

import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.ImageDelivery;
import dev.byop.core.Byop;
import dev.byop.core.ByopListener;
import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import dev.byop.core.spi.Store;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * byop's meters, fed by its {@link ByopListener} callbacks and, for gauges, by its store.
 *
 * <pre>{@code
 * ByopMetrics metrics = new ByopMetrics(byop);   // listens to byop from now on
 * metrics.bindTo(registry);
 * }</pre>
 *
 * <table>
 * <caption>meters</caption>
 * <tr><th>name</th><th>type</th><th>tags</th><th>what</th></tr>
 * <tr><td>{@code byop.builds}</td><td>counter</td><td>{@code outcome}: success, failed, cancelled</td>
 *     <td>build jobs ended</td></tr>
 * <tr><td>{@code byop.build.phase}</td><td>timer</td><td>{@code phase}: queue, fetch, build, push</td>
 *     <td>time a job spent in PENDING (first attempt), FETCHING, BUILDING, PUSHING</td></tr>
 * <tr><td>{@code byop.build.queue}</td><td>gauge</td><td></td>
 *     <td>jobs PENDING in the store (all instances sharing it); NaN when the store cannot count</td></tr>
 * <tr><td>{@code byop.build.lease.recoveries}</td><td>counter</td><td>{@code result}: retried, gave_up</td>
 *     <td>running jobs whose worker's lease expired</td></tr>
 * <tr><td>{@code byop.previews}</td><td>counter</td><td>{@code outcome}: running, failed, stopped</td>
 *     <td>previews that reached that status</td></tr>
 * <tr><td>{@code byop.preview.phase}</td><td>timer</td><td>{@code phase}: build, deploy</td>
 *     <td>time a preview spent in BUILDING, DEPLOYING</td></tr>
 * <tr><td>{@code byop.previews.running}</td><td>gauge</td><td>{@code host}</td>
 *     <td>previews RUNNING per host, from the store</td></tr>
 * <tr><td>{@code byop.preview.image.bytes}</td><td>counter (bytes)</td><td>{@code transfer}: sent, skipped;
 *     {@code path}: present, thin, full, registry</td>
 *     <td>bytes of preview images sent to their hosts, and of layers the hosts had already (not sent)</td></tr>
 * <tr><td>{@code byop.preview.image.deliveries}</td><td>counter</td><td>{@code path}</td>
 *     <td>images delivered to preview hosts, by the path taken</td></tr>
 * </table>
 *
 * <p>Timers are in Micrometer's base unit (seconds, as each registry renders it); bytes in bytes. The image meters come
 * from {@link ByopListener#imageDelivered}, which the deployers report.
 */
public final class ByopMetrics implements MeterBinder, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ByopMetrics.class);
  /** How long a read of the store for the gauges is reused, so a scrape of many gauges costs one query. */
  private static final Duration GAUGE_CACHE = Duration.ofSeconds(1);

  private final @Nullable Byop byop;
  private final Store store;
  private final List<MeterRegistry> registries = new CopyOnWriteArrayList<>();
  private final Map<String, Instant> previewEntered = new ConcurrentHashMap<>();
  private final Map<String, Long> runningPerHost = new ConcurrentHashMap<>();
  private volatile long runningReadAt = Long.MIN_VALUE;
  // not implemented by this class itself: a MeterBinder bean that is also a ByopListener would be asked for while
  // the Byop bean that takes the application's listeners is made, and it needs that Byop
  private final ByopListener listener = new ByopListener() {
    @Override
    public void buildStatusChanged(BuildJob job, BuildStatus from) {
      onBuild(job, from);
    }

    @Override
    public void previewStatusChanged(Preview preview, PreviewStatus from) {
      onPreview(preview, from);
    }

    @Override
    public void imageDelivered(ImageDelivery delivery) {
      onDelivery(delivery);
    }
  };

  /** Meters for {@code byop}: listens to it from now until {@link #close()}. */
  public ByopMetrics(Byop byop) {
    this.byop = byop;
    this.store = byop.store();
    byop.addListener(listener);
  }

  /** Meters fed by whoever calls {@link #listener()}; gauges read {@code store}. */
  public ByopMetrics(Store store) {
    this.byop = null;
    this.store = store;
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    registries.add(registry);
    Gauge.builder("byop.build.queue", this, ByopMetrics::queueDepth)
        .description("build jobs waiting (PENDING) in the store").baseUnit("jobs").strongReference(true)
        .register(registry);
    // the outcomes exist from the start at zero, so a dashboard shows 0 rather than no data
    for (BuildStatus s : List.of(BuildStatus.SUCCESS, BuildStatus.FAILED, BuildStatus.CANCELLED)) {
      buildsCounter(registry, s);
    }
    for (PreviewStatus s : List.of(PreviewStatus.RUNNING, PreviewStatus.FAILED, PreviewStatus.STOPPED)) {
      previewsCounter(registry, s);
    }
    refreshRunning(true);
  }

  /** Stops listening to the {@code Byop} given at construction; the meters stay in their registries. */
  @Override
  public void close() {
    if (byop != null) byop.removeListener(listener);
  }

  /** The listener that feeds the meters (already added to the {@code Byop} given at construction). */
  public ByopListener listener() {
    return listener;
  }

  // ------------------------------------------------------------------ listener

  private void onBuild(BuildJob job, BuildStatus from) {
    BuildStatus to = job.status();
    if (from.isRunning() && (to == BuildStatus.PENDING || isGiveUp(job))) {
      String result = to == BuildStatus.PENDING ? "retried" : "gave_up";
      each(r -> Counter.builder("byop.build.lease.recoveries").description("running build jobs whose lease expired")
          .tag("result", result).register(r).increment());
      if (to == BuildStatus.PENDING) return; // the store keeps the first PENDING time: no phase to time
    }
    String phase = buildPhase(from);
    Instant start = job.statusTimes().get(from);
    Instant end = job.statusTimes().get(to);
    // a job back from recovery waited in PENDING since its first request: its queue time would mislead
    boolean timed = phase != null && start != null && end != null && !(from == BuildStatus.PENDING && job.attempt() > 1);
    if (timed) {
      Duration d = Duration.between(start, end);
      if (!d.isNegative()) {
        each(r -> Timer.builder("byop.build.phase").description("time a build job spent in a status")
            .tag("phase", phase).register(r).record(d));
      }
    }
    if (to.isTerminal()) each(r -> buildsCounter(r, to).increment());
  }

  private void onPreview(Preview preview, PreviewStatus from) {
    Instant entered = previewEntered.remove(preview.id());
    if (entered == null && from == PreviewStatus.BUILDING) entered = preview.createdAt();
    String phase = from == PreviewStatus.BUILDING ? "build" : from == PreviewStatus.DEPLOYING ? "deploy" : null;
    if (phase != null && entered != null) {
      Duration d = Duration.between(entered, preview.updatedAt());
      if (!d.isNegative()) {
        each(r -> Timer.builder("byop.preview.phase").description("time a preview spent in a status")
            .tag("phase", phase).register(r).record(d));
      }
    }
    PreviewStatus to = preview.status();
    if (to != PreviewStatus.STOPPED) previewEntered.put(preview.id(), preview.updatedAt());
    if (to == PreviewStatus.RUNNING || to == PreviewStatus.FAILED || to == PreviewStatus.STOPPED) {
      each(r -> previewsCounter(r, to).increment());
    }
    if (to == PreviewStatus.RUNNING || from == PreviewStatus.RUNNING) refreshRunning(true);
  }

  // ------------------------------------------------------------------ meters

  private static Counter buildsCounter(MeterRegistry r, BuildStatus outcome) {
    return Counter.builder("byop.builds").description("build jobs ended, by outcome")
        .tag("outcome", outcome.name().toLowerCase(Locale.ROOT)).register(r);
  }

  private static Counter previewsCounter(MeterRegistry r, PreviewStatus outcome) {
    return Counter.builder("byop.previews").description("previews that reached running, failed or stopped")
        .tag("outcome", outcome.name().toLowerCase(Locale.ROOT)).register(r);
  }

  private void onDelivery(ImageDelivery d) {
    each(r -> {
      Counter.builder("byop.preview.image.deliveries").description("images delivered to preview hosts")
          .tag("path", d.path()).register(r).increment();
      Counter.builder("byop.preview.image.bytes").description("bytes of preview images sent to hosts, or not sent "
          + "because the host had them").baseUnit("bytes").tag("transfer", "sent").tag("path", d.path()).register(r)
          .increment(d.bytesSent());
      Counter.builder("byop.preview.image.bytes").description("bytes of preview images sent to hosts, or not sent "
          + "because the host had them").baseUnit("bytes").tag("transfer", "skipped").tag("path", d.path())
          .register(r).increment(d.bytesSkipped());
    });
  }

  private static @Nullable String buildPhase(BuildStatus s) {
    return switch (s) {
      case PENDING -> "queue";
      case FETCHING -> "fetch";
      case BUILDING -> "build";
      case PUSHING -> "push";
      default -> null;
    };
  }

  /** What the store's recovery writes when a job used its last attempt (see the store's recoverExpiredBuildJobs). */
  private static boolean isGiveUp(BuildJob job) {
    return job.status() == BuildStatus.FAILED && job.error() != null && job.error().startsWith("lease expired ");
  }

  private double queueDepth() {
    try {
      return store.countBuildJobs(BuildStatus.PENDING).stream().mapToDouble(n -> n).findFirst().orElse(Double.NaN);
    } catch (RuntimeException e) {
      LOG.debug("counting pending build jobs failed", e);
      return Double.NaN;
    }
  }

  private double runningOn(String host) {
    refreshRunning(false);
    return runningPerHost.getOrDefault(host, 0L);
  }

  /**
   * Reads the running previews per host from the store (at most once per {@link #GAUGE_CACHE} unless forced) and
   * registers a gauge for each host not seen before; hosts seen once keep their gauge, at 0 when nothing runs there.
   */
  private void refreshRunning(boolean force) {
    long now = System.nanoTime();
    if (!force && now - runningReadAt < GAUGE_CACHE.toNanos()) return;
    runningReadAt = now;
    Map<String, Long> counts = new ConcurrentHashMap<>();
    try {
      for (Preview p : store.listActivePreviews()) {
        if (p.status() == PreviewStatus.RUNNING) counts.merge(p.host() == null ? "unknown" : p.host(), 1L, Long::sum);
      }
    } catch (RuntimeException e) {
      LOG.debug("listing running previews failed", e);
      return;
    }
    runningPerHost.keySet().forEach(h -> counts.putIfAbsent(h, 0L));
    runningPerHost.putAll(counts);
    // gauges are registered from events and bindTo only, never from a gauge's own read during a scrape
    if (force) runningPerHost.keySet().forEach(h -> each(r -> registerRunning(r, h)));
  }

  private void registerRunning(MeterRegistry r, String host) {
    Gauge.builder("byop.previews.running", this, m -> m.runningOn(host)).description("previews running, per host")
        .tags(Tags.of(Tag.of("host", host))).baseUnit("previews").strongReference(true).register(r);
  }

  private void each(java.util.function.Consumer<MeterRegistry> action) {
    for (MeterRegistry r : registries) {
      try {
        action.accept(r);
      } catch (RuntimeException e) {
        LOG.warn("updating byop meters in {} failed", r.getClass().getSimpleName(), e);
      }
    }
  }
}
