package dev.byop.core.internal;

import dev.byop.core.App;
import dev.byop.core.BuildConfig;
import dev.byop.core.BuildException;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildOrchestrator;
import dev.byop.core.BuildStatus;
import dev.byop.core.ByopConfig;
import dev.byop.core.ByopException;
import dev.byop.core.ByopListener;
import dev.byop.core.CancelledException;
import dev.byop.core.Component;
import dev.byop.core.Credentials;
import dev.byop.core.ImageReference;
import dev.byop.core.LogLine;
import dev.byop.core.NotFoundException;
import dev.byop.core.Secret;
import dev.byop.core.StoreException;
import dev.byop.core.spi.BuildJobStore.BuildTransition;
import dev.byop.core.spi.ImageBuilder;
import dev.byop.core.spi.ImageBuilder.BuildRequest;
import dev.byop.core.spi.ImageBuilder.BuildResult;
import dev.byop.core.spi.ImageBuilder.FetchRequest;
import dev.byop.core.spi.ImageBuilder.SourceCheckout;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.RegistryClient;
import dev.byop.core.spi.Store;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link BuildOrchestrator}: a {@link LeasedWorkerPool} of build workers over the store's claim (which gives
 * per-component ordering), every status change persisted with its time before the next step starts, logs through a
 * {@link LogHub}, events to the listener, cancel and per-job timeout that end the job even if the builder ignores its
 * cancellation. Every build, a plain one or a preview's, goes the same path: the builder lays the request's
 * Dockerfile and build args over the component's, and the image gets the app, component and commit labels
 * ({@link dev.byop.core.ByopLabels}).
 */
public final class DefaultBuildOrchestrator implements BuildOrchestrator {
  private static final Logger LOG = LoggerFactory.getLogger(DefaultBuildOrchestrator.class);

  /**
   * Everything the orchestrator is tuned by.
   *
   * @param tuning workers, lease, attempts, timeout, poll interval
   * @param registryAddress the registry host images are pushed to, or null to keep images in the local engine
   * @param registryCredentials credentials for that registry, or null to ask the registry client
   * @param instanceId this instance's id (part of worker ids), or null for host-pid-random
   * @param logFlushInterval how long a log line may wait to be stored in a batch
   * @param namespace every push lands under {@code <registryAddress>/<namespace>/} ({@code registry.namespace})
   * @param localRepository local image names start with it, as the preview manager's ({@code preview.imageRepository})
   * @param secrets values masked in every job's log and error besides the job's own (the configuration's secrets:
   *     git token, registry and store passwords)
   */
  public record Options(ByopConfig.Orchestrator tuning, @Nullable String registryAddress,
      @Nullable Credentials registryCredentials, @Nullable String instanceId, Duration logFlushInterval,
      String namespace, String localRepository, List<Secret> secrets) {
    public Options {
      ImageNames.checkNamespace("registry.namespace", namespace);
      ImageNames.checkNamespace("preview.imageRepository", localRepository);
      secrets = List.copyOf(secrets);
    }

    public Options(ByopConfig.Orchestrator tuning, @Nullable String registryAddress,
        @Nullable Credentials registryCredentials, @Nullable String instanceId, Duration logFlushInterval) {
      this(tuning, registryAddress, registryCredentials, instanceId, logFlushInterval, ImageNames.DEFAULT_NAMESPACE,
          "byop", List.of());
    }

    public static Options from(ByopConfig config) {
      return new Options(config.orchestrator(), config.section("registry").string("address").orElse(null), null,
          null, Duration.ofMillis(50), ImageNames.namespace(config.section("registry")),
          config.section("preview").string("imageRepository", "byop"), config.secrets());
    }

    public Options withInstanceId(String id) {
      return new Options(tuning, registryAddress, registryCredentials, id, logFlushInterval, namespace,
          localRepository, secrets);
    }

    public Options withRegistry(@Nullable String address, @Nullable Credentials credentials) {
      return new Options(tuning, address, credentials, instanceId, logFlushInterval, namespace, localRepository,
          secrets);
    }
  }

  /** The longest error recorded on a job, marker included; the full text stays in the job's log. */
  static final int MAX_ERROR_CHARS = 4000;

  private final Store store;
  private final ImageBuilder builder;
  private final @Nullable RegistryClient registry;
  private final Options options;
  private final ByopListener events;
  private final Clock clock;
  private final LogHub logs;
  private final LeasedWorkerPool<BuildJob> pool;
  private final Map<String, Run> runs = new ConcurrentHashMap<>();
  private final Object changed = new Object();
  /** The configuration's secrets; every run's redactor starts with them. */
  private final Redactor secrets;
  private volatile boolean closed;

  public DefaultBuildOrchestrator(Store store, ImageBuilder builder, @Nullable RegistryClient registry,
      Options options, ByopListener events, Clock clock) {
    this(store, builder, registry, options, events, clock, null);
  }

  /** @param executor the host application's executor the workers run on (never shut down here), or null */
  public DefaultBuildOrchestrator(Store store, ImageBuilder builder, @Nullable RegistryClient registry,
      Options options, ByopListener events, Clock clock, java.util.concurrent.@Nullable ExecutorService executor) {
    this.store = store;
    this.builder = builder;
    this.registry = registry;
    this.options = options;
    this.events = events;
    this.clock = clock;
    this.secrets = new Redactor().addAll(options.secrets()).add(options.registryCredentials());
    ByopConfig.Orchestrator t = options.tuning();
    String instance = options.instanceId() != null ? options.instanceId() : defaultInstanceId();
    this.logs = new LogHub(store, events, this::isFinished, clock, options.logFlushInterval(), t.pollInterval());
    Duration recoverEvery = t.lease().dividedBy(2);
    this.pool = new LeasedWorkerPool<>("byop-build", instance, t.workers(), t.lease(), t.pollInterval(), recoverEvery,
        clock, new Handler(), secrets, executor);
    pool.start();
  }

  static String defaultInstanceId() {
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      host = "localhost";
    }
    return host + "-" + ProcessHandle.current().pid() + "-" + UUID.randomUUID().toString().substring(0, 6);
  }

  /** This instance's id; worker ids are {@code <instanceId>/<n>}. */
  public String instanceId() {
    return pool.instanceId();
  }

  /** The log hub, for components that share it. */
  public LogHub logHub() {
    return logs;
  }

  private boolean isFinished(String jobId) {
    return store.findBuildJob(jobId).map(j -> j.status().isTerminal()).orElse(true);
  }

  // ---------------------------------------------------------------- API

  @Override
  public BuildJob requestBuild(String appId, BuildConfig config) {
    checkOpen();
    App app = store.findApp(appId).orElseThrow(() -> new NotFoundException("app", appId));
    String component = config.component() != null ? config.component() : app.components().get(0).name();
    if (app.component(component).isEmpty()) throw new NotFoundException("component", appId + "/" + component);
    BuildJob job = store.createBuildJob(appId, component, config, clock.instant());
    pool.wakeUp();
    return job;
  }

  /**
   * The image an earlier build left for this commit of the component, as it would be named now, if it still exists:
   * with a registry configured the pushed reference when the registry holds its tag, else the local name when the
   * builder's engine has it. Empty when it does not exist or cannot be checked (a builder that pushes itself, with no
   * registry client to ask). A preview runs it instead of building again.
   *
   * @param commit a full commit id (40 or 64 lowercase hex characters)
   */
  public Optional<String> reusableImage(String appId, String component, String commit) {
    checkOpen();
    if (!commit.matches("[0-9a-f]{40}|[0-9a-f]{64}")) {
      throw new dev.byop.core.ValidationException("commit", commit, "must be a full commit id (40 or 64 hex)");
    }
    String tag = ImageNames.tag(commit);
    String address = options.registryAddress();
    if (address == null) {
      ImageReference local = ImageNames.local(options.localRepository(), appId, component, tag);
      return builder.hasImage(local) ? Optional.of(local.familiar()) : Optional.empty();
    }
    if (registry == null) return Optional.empty();
    ImageReference target = ImageNames.remote(address, options.namespace(), appId, component, tag);
    Credentials credentials = options.registryCredentials() != null ? options.registryCredentials()
        : registry.credentialsFor(address);
    return registry.resolveDigest(target, credentials).map(d -> target.toString());
  }

  /**
   * Requests the build of one component of a preview: the job is created and linked to the preview in one
   * transaction, only while {@code workerId} holds the preview in BUILDING and the component has no job in this
   * round yet (see {@link dev.byop.core.spi.PreviewStore#createPreviewBuildJob}). It runs as any job does; its
   * SUCCESS does not change the app's current image.
   *
   * @return the job, or empty when the preview is no longer held so (redeployed, deleted, taken over)
   */
  public Optional<BuildJob> requestPreviewBuild(String previewId, String workerId, BuildConfig config) {
    checkOpen();
    if (config.component() == null) throw new dev.byop.core.ValidationException("build.component", "null",
        "a preview's build names its component");
    Optional<BuildJob> job = store.createPreviewBuildJob(previewId, workerId, config.component(), config,
        clock.instant());
    job.ifPresent(j -> pool.wakeUp());
    return job;
  }

  @Override
  public BuildJob job(String jobId) {
    return store.findBuildJob(jobId).orElseThrow(() -> new NotFoundException("build job", jobId));
  }

  @Override
  public List<BuildJob> jobs(String appId, int limit) {
    return store.listBuildJobs(appId, limit);
  }

  @Override
  public BuildJob cancel(String jobId) {
    for (int i = 0; i < 50; i++) {
      BuildJob job = job(jobId);
      if (job.status().isTerminal()) return job;
      Run run = runs.get(jobId);
      if (run != null && i == 0) {
        run.log.line("cancelled by user while " + job.status());
        flushQuietly(run.log);
      }
      try {
        // Record CANCELLED first, then stop the work: a worker that sees its cancellation then finds the job ended
        // and cannot record FAILED instead. workerId null: a change from outside; a remote holder learns it when its
        // next renewal fails.
        BuildJob done = store.transitionBuildJob(
            BuildTransition.of(jobId, null, job.status(), BuildStatus.CANCELLED, clock.instant()));
        if (run != null) run.lease.cancellation().cancel("cancelled by user");
        announce(done, job.status());
        logs.finished(jobId);
        return done;
      } catch (StoreException raced) {
        LOG.debug("cancel of {} raced with a status change; retrying", jobId);
      }
    }
    throw new StoreException("build job " + jobId + " kept changing status; cancel did not apply");
  }

  @Override
  public List<LogLine> logs(String jobId, long afterSeq, int limit) {
    return store.readLog(jobId, afterSeq, limit);
  }

  @Override
  public AutoCloseable followLogs(String jobId, long afterSeq, Consumer<LogLine> consumer) {
    job(jobId);
    return logs.follow(jobId, afterSeq, consumer);
  }

  @Override
  public BuildJob await(String jobId, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      BuildJob job = job(jobId);
      long left = deadline - System.nanoTime();
      if (job.status().isTerminal() || left <= 0) return job;
      long wait = Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, options.tuning().pollInterval().toMillis());
      synchronized (changed) {
        try {
          changed.wait(Math.max(1, wait));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new ByopException("interrupted while waiting for build job " + jobId);
        }
      }
    }
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    pool.close();
    logs.close();
  }

  private void checkOpen() {
    if (closed) throw new ByopException("build orchestrator is closed");
  }

  private void announce(BuildJob job, BuildStatus from) {
    events.buildStatusChanged(job, from);
    synchronized (changed) {
      changed.notifyAll();
    }
  }

  private static void flushQuietly(LogHub.Writer w) {
    try {
      w.flush();
    } catch (RuntimeException e) {
      LOG.warn("flushing a build log failed", w.redactor().safe(e));
    }
  }

  // ---------------------------------------------------------------- the work

  /** One attempt of one job on this instance. */
  private final class Run {
    final LeasedWorkerPool.Lease lease;
    final LogHub.Writer log;
    final Redactor redactor;
    volatile BuildJob job;

    Run(BuildJob job, LeasedWorkerPool.Lease lease, Redactor redactor) {
      this.job = job;
      this.lease = lease;
      this.redactor = redactor;
      this.log = logs.writer(job.id(), redactor);
    }

    /** Persists a step's status change before the next step starts, then tells the listeners. */
    BuildJob move(BuildStatus to, @Nullable String commit, @Nullable String image, @Nullable String digest) {
      BuildStatus from = job.status();
      BuildJob next = store.transitionBuildJob(BuildTransition.of(job.id(), lease.workerId(), from, to, clock.instant())
          .withResult(commit, image, digest));
      job = next;
      announce(next, from);
      return next;
    }

    /**
     * Ends the job from outside the worker thread (timeout): the builder may ignore its cancellation, the job still
     * ends now. Retries while the worker moves it between running statuses.
     */
    void endFromOutside(BuildStatus to, String why) {
      log.line(why);
      flushQuietly(log);
      for (int i = 0; i < 50; i++) {
        BuildJob now = store.findBuildJob(job.id()).orElse(null);
        if (now == null || !now.status().isRunning() || !lease.workerId().equals(now.leaseOwner())) return;
        try {
          BuildJob done = store.transitionBuildJob(BuildTransition.of(now.id(), lease.workerId(), now.status(), to,
              clock.instant()).withError(LogHub.cut(why, MAX_ERROR_CHARS)));
          job = done;
          announce(done, now.status());
          logs.finished(now.id());
          return;
        } catch (StoreException raced) {
          LOG.debug("ending {} raced with a status change; retrying", now.id());
        }
      }
    }
  }

  private final class Handler implements LeasedWorkerPool.Handler<BuildJob> {
    @Override
    public Optional<BuildJob> claim(String workerId, Instant now, Duration lease) {
      return store.claimBuildJob(workerId, now, lease);
    }

    @Override
    public boolean renew(BuildJob job, String workerId, Instant now, Duration lease) {
      return store.renewBuildLease(job.id(), workerId, now, lease);
    }

    @Override
    public void recover(Instant now) {
      for (BuildJob j : store.recoverExpiredBuildJobs(now, options.tuning().maxAttempts())) {
        LOG.info("build job {} recovered after an expired lease: now {}{}", j.id(), j.status(),
            j.error() == null ? "" : " (" + secrets.redact(j.error()) + ")");
        announce(j, lastRunningStatus(j));
        if (j.status().isTerminal()) logs.finished(j.id());
      }
    }

    @Override
    public void process(BuildJob claimed, LeasedWorkerPool.Lease lease) {
      Run run = new Run(claimed, lease, new Redactor(secrets));
      runs.put(claimed.id(), run);
      announce(claimed, BuildStatus.PENDING);
      Duration timeout = options.tuning().jobTimeout();
      ScheduledFuture<?> timer = pool.timer().schedule(() -> {
        String why = "timed out after " + Durations.human(timeout);
        if (lease.cancellation().cancel(why)) run.endFromOutside(BuildStatus.FAILED, why);
      }, timeout.toMillis(), TimeUnit.MILLISECONDS);
      try {
        execute(run);
      } catch (Throwable t) {
        fail(run, t);
      } finally {
        timer.cancel(false);
        runs.remove(claimed.id());
        try {
          run.log.close();
        } catch (RuntimeException e) {
          LOG.warn("storing the last log lines of {} failed", claimed.id(), run.redactor.safe(e));
        }
        logs.finished(claimed.id());
        synchronized (changed) {
          changed.notifyAll();
        }
      }
    }
  }

  private static BuildStatus lastRunningStatus(BuildJob j) {
    BuildStatus best = BuildStatus.FETCHING;
    Instant at = null;
    for (BuildStatus s : List.of(BuildStatus.FETCHING, BuildStatus.BUILDING, BuildStatus.PUSHING)) {
      Instant t = j.statusTimes().get(s);
      if (t != null && (at == null || !t.isBefore(at))) {
        best = s;
        at = t;
      }
    }
    return best;
  }

  private void execute(Run run) {
    BuildJob job = run.job;
    JobContext ctx = new JobContext(job.id(), run.log, run.lease.cancellation());
    BuildConfig config = job.config();
    App app = store.findApp(job.appId()).orElseThrow(() -> new BuildException("app '" + job.appId()
        + "' no longer exists"));
    Component component = app.component(job.component()).orElseThrow(() -> new BuildException(
        "app '" + job.appId() + "' has no component '" + job.component() + "'"));

    // Resolve every secret first and register it with the redactor before any line can contain it.
    Map<String, Secret> secrets = new LinkedHashMap<>();
    config.secrets().forEach((id, ref) -> {
      Secret value = ref.resolve();
      run.redactor.add(value);
      secrets.put(id, value);
    });
    run.redactor.addUrlUserInfo(component.source().url());
    String address = options.registryAddress();
    Credentials registryCredentials = options.registryCredentials();
    if (address != null && registryCredentials == null && registry != null) {
      registryCredentials = registry.credentialsFor(address);
    }
    run.redactor.add(registryCredentials);

    run.log.line("build " + job.appId() + "/" + job.component() + " attempt " + job.attempt() + " on "
        + run.lease.workerId());
    ctx.cancellation().throwIfCancelled();
    String revision = config.commit() != null ? config.commit() : component.source().revision();
    run.log.line("fetching " + component.source().redactedUrl() + " at " + revision);
    SourceCheckout checkout = builder.fetchSource(new FetchRequest(job.appId(), component, config.commit(), null), ctx);
    try {
      ctx.cancellation().throwIfCancelled();
      config = labelled(config, job.appId(), job.component(), checkout.commit());
      String tag = ImageNames.buildTag(config.tag(), checkout.commit());
      ImageReference local = ImageNames.local(options.localRepository(), job.appId(), job.component(), tag);
      ImageReference target = address == null ? null
          : ImageNames.remote(address, options.namespace(), job.appId(), job.component(), tag);
      run.move(BuildStatus.BUILDING, checkout.commit(), null, null);
      run.log.line("building commit " + checkout.commit());
      if (target == null) {
        BuildResult r = builder.build(new BuildRequest(job.appId(), component, checkout, config, local, secrets, false,
            null), ctx);
        ctx.cancellation().throwIfCancelled();
        run.log.line("no registry configured: image " + local.familiar() + " stays in the local engine");
        run.log.flush();
        run.move(BuildStatus.SUCCESS, null, local.familiar(), r.imageId());
      } else if (builder.capabilities().canPush()) {
        BuildResult r = builder.build(new BuildRequest(job.appId(), component, checkout, config, target, secrets, true,
            registryCredentials), ctx);
        ctx.cancellation().throwIfCancelled();
        String digest = r.pushedDigest().orElseThrow(() -> new BuildException(
            "the builder was asked to push " + target + " but reported no digest"));
        run.move(BuildStatus.PUSHING, null, target.toString(), null);
        run.log.line("pushed by the builder: " + target + "@" + digest);
        if (registry != null) {
          // The builder's word is checked against the registry, as the engine push path does.
          String held = registry.resolveDigest(target, registryCredentials).orElseThrow(() -> new BuildException(
              "the builder reported pushing " + target + " but the registry has no such tag"));
          if (!held.equals(digest)) {
            throw new BuildException("digest mismatch for " + target + ": the builder pushed " + digest
                + " but the registry holds " + held);
          }
          run.log.line("registry confirms " + target + "@" + held);
        }
        run.log.flush();
        run.move(BuildStatus.SUCCESS, null, target.toString(), digest);
      } else if (registry != null) {
        builder.build(new BuildRequest(job.appId(), component, checkout, config, local, secrets, false,
            registryCredentials), ctx);
        ctx.cancellation().throwIfCancelled();
        run.move(BuildStatus.PUSHING, null, target.toString(), null);
        run.log.line("pushing " + local.familiar() + " to " + target);
        RegistryClient.PushResult p = registry.push(new RegistryClient.PushRequest(local.familiar(), target,
            registryCredentials), ctx);
        ctx.cancellation().throwIfCancelled();
        run.log.line("pushed " + target + "@" + p.digest());
        run.log.flush();
        run.move(BuildStatus.SUCCESS, null, target.toString(), p.digest());
      } else {
        throw new BuildException("registry " + address + " is configured, but the builder cannot push and no registry"
            + " client is available");
      }
    } finally {
      try {
        builder.cleanup(checkout);
      } catch (RuntimeException e) {
        LOG.warn("cleaning up the checkout of {} failed", job.id(), run.redactor.safe(e));
      }
    }
  }

  /** The request's labels with byop's app, component and commit labels laid over them (a user cannot forge them). */
  private static BuildConfig labelled(BuildConfig c, String appId, String component, String commit) {
    Map<String, String> labels = new LinkedHashMap<>(c.labels());
    labels.put(dev.byop.core.ByopLabels.APP, appId);
    labels.put(dev.byop.core.ByopLabels.COMPONENT, component);
    labels.put(dev.byop.core.ByopLabels.COMMIT, commit);
    return new BuildConfig(c.component(), c.commit(), c.dockerfile(), c.buildArgs(), c.target(), labels, c.platforms(),
        c.noCache(), c.secrets(), c.tag());
  }

  private void fail(Run run, Throwable t) {
    LeasedWorkerPool.Lease lease = run.lease;
    String id = run.job.id();
    if (lease.abandoned()) {
      LOG.info("build job {} left {} at shutdown; another instance takes it after the lease", id, run.job.status());
      return;
    }
    if (lease.lost()) {
      BuildJob now = store.findBuildJob(id).orElse(null);
      if (now != null && now.status().isTerminal()) {
        LOG.info("build job {} was ended elsewhere ({}); this worker stopped", id, now.status());
      } else {
        LOG.warn("build job {}: lease lost while {}; stopping without a status change", id, run.job.status());
      }
      return;
    }
    BuildJob stored = store.findBuildJob(id).orElse(null);
    if (stored == null || !stored.status().isRunning() || !lease.workerId().equals(stored.leaseOwner())) {
      return; // cancelled or timed out from outside (already recorded), or taken over
    }
    String why;
    if (t instanceof CancelledException && lease.cancellation().isCancelled()) {
      why = lease.cancellation().reason();
    } else {
      String m = t.getMessage();
      why = run.redactor.redact(m == null || m.isBlank() ? t.getClass().getSimpleName() : m);
    }
    if (!(t instanceof ByopException)) LOG.warn("build job {} failed unexpectedly", id, run.redactor.safe(t));
    run.log.line("failed: " + why);
    flushQuietly(run.log);
    try {
      // bounded, so that a long message (a 20 KB RUN line in BuildKit's error) can never make the FAILED update fail
      BuildJob done = store.transitionBuildJob(BuildTransition.of(id, lease.workerId(), stored.status(),
          BuildStatus.FAILED, clock.instant()).withError(LogHub.cut(why, MAX_ERROR_CHARS)));
      announce(done, stored.status());
    } catch (StoreException raced) {
      LOG.info("build job {} changed while failing it: {}", id,
          run.redactor.redact(String.valueOf(raced.getMessage())));
    }
  }
}
