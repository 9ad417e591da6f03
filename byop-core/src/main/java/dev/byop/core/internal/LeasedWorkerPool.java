package dev.byop.core.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker loop shared by builds and previews: a fixed number of worker threads (the global limit) each claim one
 * item from the store with a lease, renew the lease at a third of its length while they work, and fire the item's
 * cancellation when the lease is lost; a timer periodically recovers items whose lease expired elsewhere.
 *
 * <p>Workers are threads of the pool's own, or long-running tasks on an executor the host application hands in (as
 * jib's {@code Containerizer.setExecutorService}): then the pool never shuts that executor down; closing stops and
 * waits for its own tasks only.
 *
 * @param <T> what is claimed (a build job, a preview)
 */
public final class LeasedWorkerPool<T> implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LeasedWorkerPool.class);

  /** What the pool does with the store and with each claimed item. */
  public interface Handler<T> {
    /** Claims the next item for {@code workerId}, or empty when there is none. */
    Optional<T> claim(String workerId, Instant now, Duration lease);

    /** Extends the lease; false when the worker no longer holds the item. */
    boolean renew(T item, String workerId, Instant now, Duration lease);

    /** Does the work; the lease is renewed until this returns. */
    void process(T item, Lease lease);

    /** Returns items whose lease expired to the queue (or ends them); called every recovery interval. */
    default void recover(Instant now) { }
  }

  /** The lease a worker holds on one item while processing it. */
  public static final class Lease {
    private final String workerId;
    private final CancellationSource cancellation;
    private volatile boolean lost;
    private volatile boolean abandoned;

    Lease(String workerId, Redactor secrets) {
      this.workerId = workerId;
      this.cancellation = new CancellationSource(secrets);
    }

    public String workerId() {
      return workerId;
    }

    /** Fires when the lease is lost, at shutdown, or when the handler cancels the work (user, timeout). */
    public CancellationSource cancellation() {
      return cancellation;
    }

    /** The store no longer has this worker as the holder (expired and taken, or ended from outside). */
    public boolean lost() {
      return lost;
    }

    /** The pool is closing: leave the item as it is stored, another instance recovers it after the lease. */
    public boolean abandoned() {
      return abandoned;
    }
  }

  private final String name;
  private final String instanceId;
  private final int workers;
  private final Duration lease;
  private final Duration pollInterval;
  private final Duration recoverInterval;
  private final Clock clock;
  private final Handler<T> handler;
  private final Redactor secrets;
  private final ScheduledExecutorService timer;
  private final @Nullable ExecutorService executor;
  private final List<Thread> threads = new ArrayList<>();
  private final List<Future<?>> tasks = new ArrayList<>();
  private final List<Lease> active = new ArrayList<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();
  private long wakeups;
  private volatile boolean running;

  /**
   * @param name thread name prefix
   * @param instanceId this process's id; worker ids are {@code instanceId/N}
   * @param workers how many items are processed at once
   * @param lease how long a claim lasts without renewal
   * @param pollInterval how long an idle worker waits before claiming again
   * @param recoverInterval how often expired leases are recovered
   * @param secrets masked in every exception the pool logs (a handler's or a store's message may quote them)
   * @param executor the host application's executor the workers run on, or null for threads of the pool's own
   */
  public LeasedWorkerPool(String name, String instanceId, int workers, Duration lease, Duration pollInterval,
      Duration recoverInterval, Clock clock, Handler<T> handler, Redactor secrets, @Nullable ExecutorService executor) {
    this.secrets = secrets;
    this.executor = executor;
    this.name = name;
    this.instanceId = instanceId;
    this.workers = workers;
    this.lease = lease;
    this.pollInterval = pollInterval;
    this.recoverInterval = recoverInterval;
    this.clock = clock;
    this.handler = handler;
    this.timer = Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, name + "-timer");
      t.setDaemon(true);
      return t;
    });
  }

  /** The timer the pool renews leases on; handlers may schedule short tasks (timeouts) on it. */
  public ScheduledExecutorService timer() {
    return timer;
  }

  public String instanceId() {
    return instanceId;
  }

  public synchronized void start() {
    if (running) return;
    running = true;
    for (int i = 1; i <= workers; i++) {
      String workerId = instanceId + "/" + i;
      if (executor != null) {
        tasks.add(executor.submit(() -> loop(workerId)));
        continue;
      }
      Thread t = new Thread(() -> loop(workerId), name + "-worker-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    long every = recoverInterval.toMillis();
    timer.scheduleWithFixedDelay(this::recover, every, every, TimeUnit.MILLISECONDS);
  }

  /** New work was requested: idle workers claim now instead of at their next poll. */
  public void wakeUp() {
    lock.lock();
    try {
      wakeups++;
      work.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void recover() {
    try {
      handler.recover(clock.instant());
    } catch (RuntimeException e) {
      LOG.warn("{}: recovering expired leases failed; will retry", name, secrets.safe(e));
    }
  }

  private void loop(String workerId) {
    while (running) {
      long seen;
      lock.lock();
      try {
        seen = wakeups;
      } finally {
        lock.unlock();
      }
      Optional<T> item;
      try {
        item = handler.claim(workerId, clock.instant(), lease);
      } catch (RuntimeException e) {
        if (!running) return;
        LOG.warn("{}: claiming failed; will retry", workerId, secrets.safe(e));
        item = Optional.empty();
      }
      if (item.isPresent()) {
        run(workerId, item.get());
        continue;
      }
      lock.lock();
      try {
        if (running && wakeups == seen) work.await(pollInterval.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        if (!running) return;
      } finally {
        lock.unlock();
      }
    }
  }

  /**
   * Processes an item the caller claimed itself (as {@code workerId}) on the calling thread, with the same lease renewal
   * and cancellation as a worker's; a delete uses it to tear down at once instead of waiting for a free worker.
   */
  public void runHere(String workerId, T item) {
    run(workerId, item);
  }

  private void run(String workerId, T item) {
    Lease l = new Lease(workerId, secrets);
    synchronized (active) {
      active.add(l);
    }
    long every = Math.max(1, lease.toMillis() / 3);
    ScheduledFuture<?> renewal = timer.scheduleAtFixedRate(() -> {
      if (l.lost || l.abandoned) return;
      boolean held;
      try {
        held = handler.renew(item, workerId, clock.instant(), lease);
      } catch (RuntimeException e) {
        LOG.warn("{}: renewing lease failed; will retry", workerId, secrets.safe(e));
        return;
      }
      if (!held) {
        l.lost = true;
        l.cancellation.cancel("lease lost");
      }
    }, every, every, TimeUnit.MILLISECONDS);
    try {
      handler.process(item, l);
    } catch (RuntimeException | Error e) {
      LOG.error("{}: processing failed unexpectedly", workerId, secrets.safe(e));
    } finally {
      renewal.cancel(false);
      synchronized (active) {
        active.remove(l);
      }
    }
  }

  /**
   * Stops claiming, abandons running items (they keep their stored status and lease, so another instance takes them
   * after the lease) and waits briefly for the workers.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (!running && threads.isEmpty() && tasks.isEmpty()) {
        timer.shutdownNow();
        LogHub.awaitQuietly(timer);
        return;
      }
      running = false;
    }
    synchronized (active) {
      for (Lease l : active) {
        l.abandoned = true;
        l.cancellation.cancel("shutting down");
      }
    }
    wakeUp();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    for (Thread t : threads) {
      try {
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      if (t.isAlive()) t.interrupt();
    }
    threads.clear();
    for (Future<?> f : tasks) {
      try {
        f.get(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
        // the loop ended with an error (logged by the task) or never started: nothing of ours runs
      } catch (java.util.concurrent.TimeoutException e) {
        f.cancel(true); // interrupts our task only; the executor stays the host's
      }
    }
    tasks.clear();
    timer.shutdownNow();
    LogHub.awaitQuietly(timer);
  }
}
