package dev.byop.core.internal;

import dev.byop.core.App;
import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.ByopConfig;
import dev.byop.core.ByopListener;
import dev.byop.core.CancelledException;
import dev.byop.core.Component;
import dev.byop.core.ImageReference;
import dev.byop.core.LogLine;
import dev.byop.core.NotFoundException;
import dev.byop.core.Preview;
import dev.byop.core.PreviewException;
import dev.byop.core.PreviewLimitException;
import dev.byop.core.PreviewManager;
import dev.byop.core.PreviewStatus;
import dev.byop.core.Secret;
import dev.byop.core.Settings;
import dev.byop.core.StoreException;
import dev.byop.core.ValidationException;
import dev.byop.core.PreviewHostnames;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.PreviewDeployer;
import dev.byop.core.spi.PreviewDeployer.DeployRequest;
import dev.byop.core.spi.PreviewDeployer.Deployment;
import dev.byop.core.spi.PreviewStore.PreviewTransition;
import dev.byop.core.spi.Store;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link PreviewManager}: {@link #createPreview} stores a BUILDING preview and returns; leased workers request a
 * build job of the {@link dev.byop.core.BuildOrchestrator} for every component (so previews build as any build does:
 * the component's Dockerfile and build args, pushed when a registry is configured, in parallel across components
 * within the orchestrator's workers), or reuse the image an earlier build left for the same commit; each job is
 * created linked to the preview in the store (one transaction); they copy each job's log lines into the preview's
 * log prefixed with {@code [component]}, wait for every job, move the preview to DEPLOYING with the jobs' images, deploy through the
 * {@link PreviewDeployer} and record RUNNING (host, address, URL) or FAILED (a job that ends FAILED or CANCELLED
 * fails the preview with its id and error; the other jobs are cancelled). A worker that dies leaves a lease that
 * expires; the preview is then claimed again and deployed again (compose up is idempotent), up to
 * {@code maxAttempts}, so nothing stays BUILDING or DEPLOYING. A preview that fails or gives up is torn down before it
 * is recorded FAILED. Deleting records STOPPING first; the tear-down is claimed with a lease like a deployment, so one
 * that a crash interrupted is finished by a worker (or the next delete) and STOPPED is recorded only once it is done.
 * A worker that claims a BUILDING preview again after a crash waits for the jobs linked to it instead of requesting
 * new ones; deleting a preview, or redeploying it (also while it builds), cancels the jobs of its previous round that
 * have not ended. A reaper tears down expired previews and sweeps byop-labelled resources that the
 * store does not know.
 *
 * <p>Configuration, section {@code preview} (besides the deployer's own keys): {@code domain} (default
 * {@code byop.local}), {@code ttl} (default 24h; {@code 0} for never), {@code maxPerApp} (default 5),
 * {@code imageRepository} (default {@code byop}), {@code reapInterval} (default 1m), {@code sweepInterval} (default
 * 10m, the first sweep at start; {@code 0} for never). Worker count, lease and attempts come from {@code orchestrator}.
 */
public final class DefaultPreviewManager implements PreviewManager {
  private static final Logger LOG = LoggerFactory.getLogger(DefaultPreviewManager.class);
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

  /**
   * Manager options.
   *
   * @param domain preview host names are one label under it
   * @param ttl how long a preview lives, or null for ever
   * @param maxPerApp how many previews that are not STOPPED one app may have
     * @param reapInterval how often expired previews are torn down
   * @param sweepInterval how often orphaned resources are swept (first at start), or null for never
   * @param workers previews deployed at once
   * @param lease lease length
   * @param maxAttempts claims of one deployment before it is FAILED
   * @param pollInterval how often idle workers look for work
   * @param gitPolicy which git transports component sources may use
   * @param secrets values masked in every preview's log and error (the configuration's secrets: git token, registry
   *     and store passwords)
   */
  public record Options(String domain, @Nullable Duration ttl, int maxPerApp, Duration reapInterval,
      @Nullable Duration sweepInterval, int workers, Duration lease, int maxAttempts, Duration pollInterval,
      dev.byop.core.GitSource.Policy gitPolicy, List<Secret> secrets) {
    public Options {
      PreviewHostnames.checkDomain(domain);
      if (maxPerApp < 1) throw new ValidationException("preview.maxPerApp", maxPerApp, "must be at least 1");
      secrets = List.copyOf(secrets);
    }

    public Options(String domain, @Nullable Duration ttl, int maxPerApp, Duration reapInterval,
        @Nullable Duration sweepInterval, int workers, Duration lease, int maxAttempts, Duration pollInterval,
        dev.byop.core.GitSource.Policy gitPolicy) {
      this(domain, ttl, maxPerApp, reapInterval, sweepInterval, workers, lease, maxAttempts, pollInterval, gitPolicy,
          List.of());
    }

    /**
     * Reads the {@code preview} and {@code orchestrator} sections. {@code preview.imageRepository} is checked here and
     * used by the build orchestrator, the one place images are named.
     */
    public static Options from(ByopConfig config) {
      Settings s = config.section("preview");
      ByopConfig.Orchestrator o = config.orchestrator();
      Duration ttl = s.duration("ttl", Duration.ofHours(24));
      Duration sweep = s.duration("sweepInterval", Duration.ofMinutes(10));
      ImageNames.checkNamespace("preview.imageRepository", s.string("imageRepository", "byop"));
      return new Options(s.string("domain", PreviewHostnames.DEFAULT_DOMAIN), ttl.isZero() ? null : ttl,
          s.integer("maxPerApp", 5), s.duration("reapInterval", Duration.ofMinutes(1)),
          sweep.isZero() ? null : sweep, o.workers(), o.lease(), o.maxAttempts(), o.pollInterval(),
          config.gitPolicy(), config.secrets());
    }
  }

  private final Store store;
  private final Supplier<DefaultBuildOrchestrator> orchestrator;
  private final Supplier<PreviewDeployer> deployer;
  private final String deployerId;
  private final ByopListener events;
  private final Options options;
  private final Clock clock;
  private final LogHub logs;
  private final LeasedWorkerPool<Preview> pool;
  private final Map<String, LeasedWorkerPool.Lease> working = new ConcurrentHashMap<>();
  /**
   * Previews claimed by this process and not yet processed to the end, with the claiming worker (claimed under
   * {@link #claiming}); an old worker leaving removes only its own entry, not that of a worker of the next round.
   */
  private final Map<String, String> claimedHere = new ConcurrentHashMap<>();
  private final Object claiming = new Object();
  /** Previews a worker of this process is tearing down (a delete waits for those instead of cancelling them). */
  private final Set<String> stopping = ConcurrentHashMap.newKeySet();
  private final java.util.concurrent.atomic.AtomicLong deletes = new java.util.concurrent.atomic.AtomicLong();
  private final ScheduledExecutorService reaper;
  /** The configuration's secrets; every preview's redactor starts with them. */
  private final Redactor secrets;
  private volatile boolean closed;

  /**
   * @param orchestrator opened on first build (a host that only reads previews needs no builder); its jobs build the
   *     previews' images
   * @param deployer opened on first deployment
   * @param deployerId the id recorded on new previews ({@code local}, {@code ssh})
   */
  public DefaultPreviewManager(Store store, Supplier<DefaultBuildOrchestrator> orchestrator,
      Supplier<PreviewDeployer> deployer, String deployerId, ByopListener events, Options options, Clock clock) {
    this(store, orchestrator, deployer, deployerId, events, options, clock, null);
  }

  /** @param executor the host application's executor the workers run on (never shut down here), or null */
  public DefaultPreviewManager(Store store, Supplier<DefaultBuildOrchestrator> orchestrator,
      Supplier<PreviewDeployer> deployer, String deployerId, ByopListener events, Options options, Clock clock,
      java.util.concurrent.@Nullable ExecutorService executor) {
    this.store = store;
    this.orchestrator = orchestrator;
    this.deployer = deployer;
    this.deployerId = deployerId;
    this.events = events;
    this.options = options;
    this.clock = clock;
    this.secrets = new Redactor().addAll(options.secrets());
    this.logs = new LogHub(store, events, id -> store.findPreview(id).map(p -> !p.status().isClaimable()).orElse(true),
        clock, Duration.ofMillis(200), Duration.ofMillis(500));
    this.pool = new LeasedWorkerPool<>("byop-preview", "previews-" + UUID.randomUUID().toString().substring(0, 8),
        options.workers(), options.lease(), options.pollInterval(), options.lease(), clock, new Handler(),
        secrets, executor);
    pool.start();
    // its own timer, not the pool's: closing must let a tear-down in progress finish instead of interrupting it
    this.reaper = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "byop-preview-reaper");
      t.setDaemon(true);
      return t;
    });
    ScheduledExecutorService timer = reaper;
    long reap = options.reapInterval().toMillis();
    timer.scheduleWithFixedDelay(this::reapQuietly, reap, reap, TimeUnit.MILLISECONDS);
    if (options.sweepInterval() != null) {
      long sweep = options.sweepInterval().toMillis();
      // first at start: leftovers of a crash (previews the store does not know) go soon after a restart
      timer.scheduleWithFixedDelay(this::sweepQuietly, 0, sweep, TimeUnit.MILLISECONDS);
    }
  }

  /** How often a preview that waits for its build jobs looks at them (and copies their new log lines). */
  private static final long JOB_POLL_MS = 200;

  /** The longest error recorded on a preview, marker included; the full text stays in its log. */
  static final int MAX_ERROR_CHARS = 2000;

  /** A preview's redactor: the configuration's secrets and the user info of the app's git URLs. */
  private Redactor redactor(String appId) {
    Redactor r = new Redactor(secrets);
    store.findApp(appId).ifPresent(app -> app.components().forEach(c -> r.addUrlUserInfo(c.source().url())));
    return r;
  }

  @Override
  public synchronized Preview createPreview(String appId, @Nullable String commit) {
    checkOpen();
    App app = store.findApp(appId).orElseThrow(() -> new NotFoundException("app", appId));
    if (commit != null) BuildConfig.builder().commit(commit).build();
    app.components().forEach(c -> options.gitPolicy().check(c.source()));
    List<Preview> active = store.listPreviews(app.id());
    if (active.size() >= options.maxPerApp()) {
      throw new PreviewLimitException(app.id(), active.size(), options.maxPerApp());
    }
    Instant now = clock.instant();
    Preview p = store.createPreview(app.id(), deployerId, commit, uniqueHostname(app.id()), now,
        options.ttl() == null ? null : now.plus(options.ttl()));
    LOG.info("preview {} of app {} requested", p.id(), app.id());
    pool.wakeUp();
    return p;
  }

  private String uniqueHostname(String appId) {
    Set<String> taken = new HashSet<>();
    for (Preview p : store.listActivePreviews()) {
      if (p.hostname() != null) taken.add(p.hostname());
    }
    while (true) {
      StringBuilder token = new StringBuilder();
      for (int i = 0; i < 8; i++) token.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
      String h = PreviewHostnames.hostname(appId, token.toString(), options.domain());
      if (!taken.contains(h)) return h;
    }
  }

  @Override
  public Preview preview(String previewId) {
    return store.findPreview(previewId).orElseThrow(() -> new NotFoundException("preview", previewId));
  }

  @Override
  public Optional<Preview> currentPreview(String appId) {
    return store.appState(appId).map(s -> s.previewId()).flatMap(store::findPreview);
  }

  @Override
  public Preview redeploy(String previewId, @Nullable String commit) {
    checkOpen();
    if (commit != null) BuildConfig.builder().commit(commit).build();
    Preview p = preview(previewId);
    if (p.status() != PreviewStatus.RUNNING && p.status() != PreviewStatus.FAILED
        && p.status() != PreviewStatus.BUILDING) {
      throw new PreviewException("preview " + previewId + " is " + p.status()
          + "; only RUNNING, FAILED or BUILDING previews can be redeployed");
    }
    Map<String, String> previousJobs = store.previewBuildJobs(previewId);
    // the worker of the previous round, read before the change: once the preview is BUILDING again a worker of the
    // new round may claim it at once, and that one must not be cancelled (it would record the preview FAILED)
    LeasedWorkerPool.Lease running = working.get(previewId);
    // from outside: the store releases the lease and forgets the links, so the worker of the previous round can link
    // nothing more and fails to move the preview on; it stops at its next lease renewal (at once when it is ours)
    Preview next = transition(p, PreviewTransition.of(previewId, null, p.status(), PreviewStatus.BUILDING,
        clock.instant()).withCommit(commit));
    if (running != null && working.get(previewId) == running) running.cancellation().cancel("preview redeployed");
    cancelJobs(previewId, previousJobs, "preview " + previewId + " redeployed", null);
    pool.wakeUp();
    return next;
  }

  /**
   * Cancels the jobs of a preview's round that have not ended; a job that ended meanwhile is left as it is.
   *
   * @param log the preview's log writer, or null to append the lines to its stored log directly
   */
  private void cancelJobs(String previewId, Map<String, String> jobs, String why, LogHub.@Nullable Writer log) {
    for (Map.Entry<String, String> e : jobs.entrySet()) {
      try {
        Optional<BuildJob> job = store.findBuildJob(e.getValue());
        if (job.isEmpty() || job.get().status().isTerminal()) continue;
        BuildJob done = orchestrator.get().cancel(e.getValue());
        String line = "component " + e.getKey() + ": build job " + done.id() + " " + done.status() + " (" + why + ")";
        if (log != null) log.line(line);
        else store.appendLog(previewId, List.of(secrets.redact(line)), clock.instant());
      } catch (RuntimeException ex) {
        LOG.warn("cancelling build job {} of preview {} failed", e.getValue(), previewId, secrets.safe(ex));
      }
    }
  }

  /**
   * Records STOPPING (so a crash from here on leaves a tear-down that a worker finishes), stops a worker of this
   * process that deploys it, and tears down on the calling thread when it can claim the tear-down; a STOPPING preview
   * that another live worker tears down is returned as it is (deleting it again resumes the tear-down once that
   * worker's lease has expired).
   */
  @Override
  public Preview deletePreview(String previewId) {
    Preview p = preview(previewId);
    for (int round = 0; p.status() != PreviewStatus.STOPPED && p.status() != PreviewStatus.STOPPING; round++) {
      try {
        p = transition(p, PreviewTransition.of(previewId, null, p.status(), PreviewStatus.STOPPING, clock.instant()));
      } catch (StoreException e) {
        if (round >= 5) throw e;
        p = preview(previewId); // a worker moved it meanwhile: stop it from where it is now
      }
    }
    if (p.status() == PreviewStatus.STOPPED) return p;
    // a worker of this process deploying it stops at once (one of another process when its lease renewal fails); one
    // that tears it down is waited for
    LeasedWorkerPool.Lease running = working.get(previewId);
    if (running != null) {
      Preview held = preview(previewId);
      if (held.status() != PreviewStatus.STOPPING || !stopping.contains(previewId)) {
        running.cancellation().cancel("preview deleted");
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (working.containsKey(previewId) && System.nanoTime() < deadline) sleep(50);
    }
    String workerId = pool.instanceId() + "/delete-" + deletes.incrementAndGet();
    Optional<Preview> claimed;
    boolean heldHere;
    // under the workers' claim lock: either a worker of this process has claimed it and is known to, or we claim it
    synchronized (claiming) {
      claimed = closed ? Optional.empty() : store.claimPreview(previewId, workerId, clock.instant(), options.lease());
      heldHere = claimed.isEmpty() && claimedHere.containsKey(previewId);
      if (claimed.isPresent()) claimedHere.put(previewId, workerId);
    }
    if (claimed.isPresent()) {
      pool.runHere(workerId, claimed.get());
    } else if (heldHere) {
      // one of this process's workers took it first: its tear-down is as good as ours, so answer when it is done
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (claimedHere.containsKey(previewId) && System.nanoTime() < deadline) sleep(50);
    } else {
      pool.wakeUp();
    }
    return preview(previewId);
  }

  @Override
  public List<LogLine> logs(String previewId, long afterSeq, int limit) {
    return store.readLog(previewId, afterSeq, limit);
  }

  @Override
  public AutoCloseable followLogs(String previewId, long afterSeq, Consumer<LogLine> consumer) {
    preview(previewId);
    return logs.follow(previewId, afterSeq, consumer);
  }

  @Override
  public Preview await(String previewId, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Preview p = preview(previewId);
      if (!p.status().isClaimable() || System.nanoTime() >= deadline) return p;
      sleep(100);
    }
  }

  /** Tears down every preview whose expiry has passed; returns their ids. */
  public List<String> reapExpired() {
    List<String> reaped = new java.util.ArrayList<>();
    for (Preview p : store.listExpiredPreviews(clock.instant())) {
      LOG.info("preview {} expired at {}; tearing it down", p.id(), p.expiresAt());
      try {
        deletePreview(p.id());
        reaped.add(p.id());
      } catch (StoreException e) {
        LOG.debug("preview {} changed while reaping; next round", p.id(), secrets.safe(e));
      }
    }
    return reaped;
  }

  /** Removes byop-labelled resources and routes of previews the store does not know (or knows as STOPPED). */
  public List<String> sweep() {
    Set<String> snapshot = new HashSet<>();
    for (Preview p : store.listActivePreviews()) snapshot.add(p.id());
    // a preview created after the snapshot may already have containers: ask the store again before calling it orphaned
    Set<String> known = new java.util.AbstractSet<>() {
      @Override
      public boolean contains(Object o) {
        return o instanceof String id && (snapshot.contains(id)
            || store.findPreview(id).map(p -> p.status() != PreviewStatus.STOPPED).orElse(false));
      }

      @Override
      public java.util.Iterator<String> iterator() {
        return snapshot.iterator();
      }

      @Override
      public int size() {
        return snapshot.size();
      }
    };
    return deployer.get().sweep(known, JobContext.of("sweep", line -> LOG.info("sweep: {}", secrets.redact(line))));
  }

  private void reapQuietly() {
    try {
      reapExpired();
    } catch (RuntimeException e) {
      LOG.warn("reaping expired previews failed; will retry", secrets.safe(e));
    }
  }

  private void sweepQuietly() {
    try {
      sweep();
    } catch (RuntimeException e) {
      LOG.warn("sweeping orphaned preview resources failed; will retry", secrets.safe(e));
    }
  }

  private Preview transition(Preview before, PreviewTransition change) {
    Preview after = store.transitionPreview(change);
    if (before.status() != after.status()) events.previewStatusChanged(after, before.status());
    return after;
  }

  /** An error as recorded on the preview: cut to the store's bound with a visible marker. */
  private static String clip(String why) {
    return LogHub.cut(why, MAX_ERROR_CHARS);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CancelledException("interrupted");
    }
  }

  private void checkOpen() {
    if (closed) throw new PreviewException("the preview manager is closed");
  }

  /** Stops the workers; previews in progress keep their status and lease and are taken up again after a restart. */
  @Override
  public void close() {
    if (closed) return;
    closed = true;
    reaper.shutdown();
    try {
      if (!reaper.awaitTermination(60, TimeUnit.SECONDS)) reaper.shutdownNow();
    } catch (InterruptedException e) {
      reaper.shutdownNow();
      Thread.currentThread().interrupt();
    }
    pool.close();
    logs.close();
  }

  private final class Handler implements LeasedWorkerPool.Handler<Preview> {
    @Override
    public Optional<Preview> claim(String workerId, Instant now, Duration lease) {
      synchronized (claiming) {
        Optional<Preview> p = store.claimPreview(workerId, now, lease);
        p.ifPresent(x -> claimedHere.put(x.id(), workerId));
        return p;
      }
    }

    @Override
    public boolean renew(Preview item, String workerId, Instant now, Duration lease) {
      return store.renewPreviewLease(item.id(), workerId, now, lease);
    }

    @Override
    public void process(Preview claimed, LeasedWorkerPool.Lease lease) {
      working.put(claimed.id(), lease);
      LogHub.Writer log = logs.writer(claimed.id(), redactor(claimed.appId()));
      Preview p = claimed;
      try {
        if (p.status() == PreviewStatus.STOPPING) {
          stop(p, lease, log);
          return;
        }
        if (p.attempt() > options.maxAttempts()) {
          log.line("preview " + p.id() + " was claimed " + (p.attempt() - 1) + " times without finishing; giving up");
          fail(p, lease, log, "gave up after " + options.maxAttempts() + " attempts (the worker stopped each time)");
          return;
        }
        if (p.attempt() > 1) log.line("attempt " + p.attempt() + " (an earlier worker stopped in " + p.status() + ")");
        App app = store.findApp(p.appId()).orElseThrow(() -> new NotFoundException("app", claimed.appId()));
        JobContext ctx = new JobContext(p.id(), log, lease.cancellation());
        if (p.status() == PreviewStatus.BUILDING) {
          Map<String, String> images = build(p, app, ctx, lease);
          log.flush();
          p = transition(p, PreviewTransition.of(p.id(), lease.workerId(), PreviewStatus.BUILDING,
              PreviewStatus.DEPLOYING, clock.instant()).withImages(images));
        }
        Map<String, ImageReference> images = new LinkedHashMap<>();
        for (Component c : app.components()) {
          String ref = p.images().get(c.name());
          if (ref == null) throw new PreviewException("preview " + p.id() + " has no image for component " + c.name());
          images.put(c.name(), ImageReference.parse(ref));
        }
        log.line("deploying preview " + p.id() + " at " + p.hostname() + " with " + deployerId);
        Deployment d = deployer.get().deploy(new DeployRequest(p, app, images), ctx);
        log.flush();
        transition(p, PreviewTransition.of(p.id(), lease.workerId(), PreviewStatus.DEPLOYING, PreviewStatus.RUNNING,
            clock.instant()).withLocation(d.host(), d.address(), d.url()));
        LOG.info("preview {} is RUNNING at {}", p.id(), d.url());
      } catch (RuntimeException e) {
        if (lease.abandoned() || lease.lost()) {
          LOG.info("preview {}: worker stopped ({}); the preview is left for the next claim or was ended elsewhere",
              p.id(), lease.cancellation().reason());
          return;
        }
        String why = log.redactor().redact(e instanceof CancelledException ? "cancelled: " + e.getMessage()
            : String.valueOf(e.getMessage()));
        log.line("preview " + p.id() + " failed: " + why);
        LOG.warn("preview {} failed", p.id(), log.redactor().safe(e));
        fail(p, lease, log, why);
      } finally {
        working.remove(claimed.id(), lease);
        claimedHere.remove(claimed.id(), lease.workerId());
        try {
          log.close();
        } catch (RuntimeException e) {
          LOG.warn("storing the log of preview {} failed", claimed.id(), log.redactor().safe(e));
        }
        logs.finished(claimed.id());
      }
    }

    /** Tears down a STOPPING preview and records STOPPED; on failure records why and retries after the lease. */
    private void stop(Preview p, LeasedWorkerPool.Lease lease, LogHub.Writer log) {
      stopping.add(p.id());
      try {
        cancelJobs(p.id(), store.previewBuildJobs(p.id()), "preview " + p.id() + " deleted", log);
        log.line("tearing down preview " + p.id());
        deployer.get().tearDown(p, new JobContext(p.id(), log, lease.cancellation()));
        log.flush();
        transition(p, PreviewTransition.of(p.id(), lease.workerId(), PreviewStatus.STOPPING, PreviewStatus.STOPPED,
            clock.instant()));
        log.line("preview " + p.id() + " stopped");
        LOG.info("preview {} is STOPPED", p.id());
      } catch (RuntimeException e) {
        if (lease.abandoned() || lease.lost()) {
          LOG.info("preview {}: tear-down interrupted ({}); it stays STOPPING and is taken up again", p.id(),
              lease.cancellation().reason());
          return;
        }
        String why = "tear-down failed: " + e.getMessage();
        log.line("preview " + p.id() + ": " + why + "; retried after the lease (" + options.lease() + ")");
        LOG.warn("tearing down preview {} failed; retried after the lease", p.id(), log.redactor().safe(e));
        try {
          // STOPPING -> STOPPING keeps this worker's lease, which then expires: the lease length is the retry delay
          store.transitionPreview(PreviewTransition.of(p.id(), lease.workerId(), PreviewStatus.STOPPING,
              PreviewStatus.STOPPING, clock.instant()).withError(clip(why)));
        } catch (StoreException se) {
          LOG.info("preview {} changed while recording its tear-down failure: {}", p.id(), se.getMessage());
        }
      } finally {
        stopping.remove(p.id());
      }
    }

    /**
     * Records FAILED after tearing down what the preview may run (this attempt's or an earlier one's containers and
     * route, the old version of a redeploy), so FAILED means nothing of it runs and its host slot is free; when that
     * tear-down fails the error says so.
     */
    private void fail(Preview p, LeasedWorkerPool.Lease lease, LogHub.Writer log, String why) {
      try {
        log.flush(); // whoever sees FAILED must find the lines that say why
      } catch (RuntimeException e) {
        LOG.warn("storing the log of preview {} failed", p.id(), log.redactor().safe(e));
      }
      try {
        Preview now = store.findPreview(p.id()).orElse(p);
        if (!now.status().isInProgress()) return;
        // only while this worker still holds it: after a lost lease another worker may be deploying it right now
        if (!store.renewPreviewLease(p.id(), lease.workerId(), clock.instant(), options.lease())) {
          LOG.info("preview {}: lease lost before failing it; left to the worker that holds it now", p.id());
          return;
        }
        String error = why;
        cancelJobs(p.id(), store.previewBuildJobs(p.id()), "preview " + p.id() + " failed", log);
        try {
          log.line("tearing down what preview " + p.id() + " runs");
          // not the lease's cancellation: a cancelled or timed-out deployment must still be removed
          deployer.get().tearDown(now, JobContext.of(p.id(), log));
        } catch (RuntimeException e) {
          LOG.warn("tearing down failed preview {} failed", p.id(), log.redactor().safe(e));
          error = why + "; tearing down what it runs failed too (delete the preview to retry): " + e.getMessage();
          log.line("preview " + p.id() + ": tear-down failed: " + e.getMessage());
        }
        log.flush();
        transition(now, PreviewTransition.of(p.id(), lease.workerId(), now.status(), PreviewStatus.FAILED,
            clock.instant()).withError(clip(error)));
      } catch (StoreException e) {
        LOG.info("preview {} changed while failing it: {}", p.id(), e.getMessage());
      }
    }

    /**
     * The images of every component: reused when an earlier build left one for the commit, else built by a job of
     * the orchestrator that is linked to the preview (a job linked by an earlier attempt is waited for, not requested
     * again). Jobs run in parallel; their log lines are copied into the preview's log prefixed with the component.
     */
    private Map<String, String> build(Preview p, App app, JobContext ctx, LeasedWorkerPool.Lease lease) {
      DefaultBuildOrchestrator builds = orchestrator.get();
      List<String> requested = new java.util.ArrayList<>();
      try {
        return build(p, app, ctx, lease, builds, requested);
      } catch (RuntimeException e) {
        // A redeploy may have started a new round between reading the links and forgetting them: a job this attempt
        // requested that the preview no longer links is needed by no one. Jobs still linked stay (a worker of the same
        // round takes them up after a lost lease; a failure or delete cancels them).
        Set<String> linked = new HashSet<>(store.previewBuildJobs(p.id()).values());
        for (String id : requested) {
          if (linked.contains(id)) continue;
          try {
            if (!builds.job(id).status().isTerminal()) builds.cancel(id);
          } catch (RuntimeException ce) {
            LOG.warn("cancelling build job {} of preview {} failed", id, p.id(), secrets.safe(ce));
          }
        }
        throw e;
      }
    }

    private Map<String, String> build(Preview p, App app, JobContext ctx, LeasedWorkerPool.Lease lease,
        DefaultBuildOrchestrator builds, List<String> requested) {
      Map<String, String> linked = store.previewBuildJobs(p.id());
      Map<String, String> images = new LinkedHashMap<>();
      Map<String, String> waiting = new LinkedHashMap<>();
      for (Component c : app.components()) {
        ctx.cancellation().throwIfCancelled();
        options.gitPolicy().check(c.source());
        String earlier = linked.get(c.name());
        if (earlier != null) {
          ctx.log().line("component " + c.name() + ": waiting for build job " + earlier
              + ", requested by an earlier attempt (its log is copied again from the start)");
          waiting.put(c.name(), earlier);
          continue;
        }
        String wanted = p.commit() != null ? p.commit() : c.source().revision();
        if (wanted.matches("[0-9a-f]{40}|[0-9a-f]{64}")) {
          Optional<String> known = builds.reusableImage(app.id(), c.name(), wanted);
          if (known.isPresent()) {
            ctx.log().line("component " + c.name() + ": reusing image " + known.get() + " built for commit "
                + wanted);
            images.put(c.name(), known.get());
            continue;
          }
        }
        BuildConfig.Builder config = BuildConfig.builder().component(c.name());
        if (p.commit() != null) config.commit(p.commit());
        BuildJob job = builds.requestPreviewBuild(p.id(), lease.workerId(), config.build())
            .orElseThrow(() -> new CancelledException("preview " + p.id() + " was redeployed, deleted or taken over"
                + " while its builds were requested"));
        requested.add(job.id());
        ctx.log().line("component " + c.name() + ": build job " + job.id() + " requested for " + wanted
            + "; its log follows, prefixed [" + c.name() + "]");
        waiting.put(c.name(), job.id());
      }
      Map<String, Long> copied = new java.util.HashMap<>();
      while (!waiting.isEmpty()) {
        ctx.cancellation().throwIfCancelled();
        for (var it = waiting.entrySet().iterator(); it.hasNext(); ) {
          var e = it.next();
          BuildJob job = builds.job(e.getValue());
          // read after the status: a job that has ended has stored all its lines
          copyLog(builds, e.getKey(), job.id(), copied, ctx);
          if (!job.status().isTerminal()) continue;
          if (job.status() != BuildStatus.SUCCESS || job.image() == null) {
            throw new PreviewException("component " + e.getKey() + ": build job " + job.id() + " ended "
                + job.status() + (job.error() == null ? "" : ": " + job.error()));
          }
          ctx.log().line("component " + e.getKey() + ": build job " + job.id() + " built " + job.image()
              + (job.digest() == null ? "" : "@" + job.digest()));
          images.put(e.getKey(), job.image());
          it.remove();
        }
        if (!waiting.isEmpty()) sleep(JOB_POLL_MS);
      }
      Map<String, String> ordered = new LinkedHashMap<>();
      for (Component c : app.components()) ordered.put(c.name(), images.get(c.name()));
      return ordered;
    }

    /** Copies the job's log lines after those copied so far into the preview's log, prefixed with the component. */
    private void copyLog(DefaultBuildOrchestrator builds, String component, String jobId, Map<String, Long> copied,
        JobContext ctx) {
      while (true) {
        long after = copied.getOrDefault(jobId, 0L);
        List<LogLine> lines = builds.logs(jobId, after, 500);
        for (LogLine l : lines) ctx.log().line("[" + component + "] " + l.text());
        if (!lines.isEmpty()) copied.put(jobId, lines.get(lines.size() - 1).seq());
        if (lines.size() < 500) return;
      }
    }
  }
}
