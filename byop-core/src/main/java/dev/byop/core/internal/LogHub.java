package dev.byop.core.internal;

import dev.byop.core.ByopListener;
import dev.byop.core.LogLine;
import dev.byop.core.spi.LogSink;
import dev.byop.core.spi.LogStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log path of build jobs and previews: writers redact each line, batch lines into the {@link LogStore} (one
 * transaction per batch, not per line), and publish the stored lines with their sequence numbers to live followers
 * and to {@link ByopListener#logLine}.
 *
 * <p>A follower never misses or repeats a line: it registers first, then catches up from the store, and remembers the
 * last number it delivered; a live line it already has is skipped, and a live line beyond a gap makes it read the gap
 * from the store first. Followers also poll the store, which covers lines written by another process (a job running
 * on another instance) and ends the follow once the owner is finished.
 */
public final class LogHub implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LogHub.class);
  private static final int BATCH = 256;
  private static final int PAGE = 500;
  /**
   * The longest line stored or published, marker included: a build step can print megabytes without a newline, and
   * one such line must neither exceed the store's column (which would fail the job) nor flood a follower.
   */
  public static final int MAX_LINE_CHARS = 16_384;
  /** What a cut line or message ends with, before the count of characters left out. */
  public static final String CUT_MARKER = "… [cut: ";

  private final LogStore store;
  private final ByopListener events;
  private final Predicate<String> finished;
  private final Clock clock;
  private final ScheduledExecutorService timer;
  private final Set<Writer> writers = ConcurrentHashMap.newKeySet();
  private final Map<String, List<Follower>> followers = new ConcurrentHashMap<>();

  /**
   * @param store where lines are stored
   * @param events gets every stored line
   * @param finished whether an owner (job, preview) has ended, so followers can stop after a last catch-up
   * @param flushInterval how long a line may wait in a writer's batch
   * @param pollInterval how often followers look at the store for lines written elsewhere
   */
  public LogHub(LogStore store, ByopListener events, Predicate<String> finished, Clock clock, Duration flushInterval,
      Duration pollInterval) {
    this.store = store;
    this.events = events;
    this.finished = finished;
    this.clock = clock;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "byop-log-hub");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(this::flushAll, flushInterval.toMillis(), flushInterval.toMillis(),
        TimeUnit.MILLISECONDS);
    timer.scheduleWithFixedDelay(this::pollFollowers, pollInterval.toMillis(), pollInterval.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /**
   * {@code text} if it has at most {@code max} characters, else its start and a visible marker that says how much was
   * left out, {@code max} characters in all (a surrogate pair is never split). NUL characters become U+FFFD: PostgreSQL
   * refuses them in text columns, and a step that prints one must not fail its job.
   */
  public static String cut(String text, int max) {
    String t = text.indexOf('\0') >= 0 ? text.replace('\0', '\uFFFD') : text;
    if (t.length() <= max) return t;
    // the marker's own length depends on the count it shows; the count is at most t.length() digits long
    String longest = CUT_MARKER + t.length() + " more characters]";
    int keep = Math.max(0, max - longest.length());
    if (keep > 0 && Character.isHighSurrogate(t.charAt(keep - 1))) keep--;
    return t.substring(0, keep) + CUT_MARKER + (t.length() - keep) + " more characters]";
  }

  /** A writer for one unit of work; close it (which flushes) when the work ends. */
  public Writer writer(String ownerId, Redactor redactor) {
    Writer w = new Writer(ownerId, redactor);
    writers.add(w);
    return w;
  }

  /**
   * Delivers every line after {@code afterSeq}: stored ones, then live ones, until the owner is finished or the handle
   * is closed.
   */
  public AutoCloseable follow(String ownerId, long afterSeq, Consumer<LogLine> consumer) {
    Follower f = new Follower(ownerId, afterSeq, consumer);
    followers.compute(ownerId, (k, v) -> {
      List<Follower> list = v == null ? new CopyOnWriteArrayList<>() : v;
      list.add(f);
      return list;
    });
    f.catchUpAndMaybeEnd();
    return f::close;
  }

  /** The owner has ended: give its followers their last lines now and end them. */
  public void finished(String ownerId) {
    List<Follower> fs = followers.get(ownerId);
    if (fs != null) fs.forEach(Follower::catchUpAndMaybeEnd);
  }

  private void publish(String ownerId, List<LogLine> lines) {
    List<Follower> fs = followers.get(ownerId);
    if (fs != null) {
      for (Follower f : fs) f.live(lines);
    }
    for (LogLine l : lines) events.logLine(l);
  }

  private void flushAll() {
    for (Writer w : writers) {
      try {
        w.flush();
      } catch (RuntimeException e) {
        LOG.warn("flushing log of {} failed; will retry", w.ownerId, w.redactor.safe(e));
      }
    }
  }

  private void pollFollowers() {
    for (List<Follower> fs : followers.values()) {
      for (Follower f : fs) {
        try {
          f.catchUpAndMaybeEnd();
        } catch (RuntimeException e) {
          LOG.warn("reading log of {} failed; will retry", f.ownerId, e);
        }
      }
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    awaitQuietly(timer);
    flushAll();
    followers.values().forEach(fs -> fs.forEach(Follower::close));
  }

  /** Waits for a task in flight, so that nothing touches the store after close returns. */
  static void awaitQuietly(java.util.concurrent.ExecutorService executor) {
    try {
      if (!executor.awaitTermination(10, TimeUnit.SECONDS)) LOG.warn("a byop timer task did not end within 10s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Redacts and batches one owner's lines; thread-safe; a {@link LogSink} for providers. */
  public final class Writer implements LogSink, AutoCloseable {
    private final String ownerId;
    private final Redactor redactor;
    private final Object flushLock = new Object();
    private List<String> buffer = new ArrayList<>();
    private volatile boolean closed;

    private Writer(String ownerId, Redactor redactor) {
      this.ownerId = ownerId;
      this.redactor = redactor;
    }

    /** What this writer masks; also for exceptions about its lines that reach SLF4J. */
    public Redactor redactor() {
      return redactor;
    }

    @Override
    public void line(String text) {
      // Redact before cutting, so that a secret across the cut is still hidden whole.
      String safe = redactor.redact(text == null ? "" : text);
      boolean full;
      synchronized (this) {
        // A provider may hand over text with embedded newlines; each stored row is one line.
        for (String l : safe.split("\r?\n", -1)) buffer.add(cut(l, MAX_LINE_CHARS));
        full = buffer.size() >= BATCH;
      }
      if (full) flush();
    }

    /** Stores what is buffered and publishes it; returns when it is stored. */
    public void flush() {
      synchronized (flushLock) {
        List<String> lines;
        synchronized (this) {
          if (buffer.isEmpty()) return;
          lines = buffer;
          buffer = new ArrayList<>();
        }
        var now = clock.instant();
        long last;
        try {
          last = store.appendLog(ownerId, lines, now);
        } catch (RuntimeException e) {
          synchronized (this) {
            lines.addAll(buffer);
            buffer = lines;
          }
          throw e;
        }
        List<LogLine> stored = new ArrayList<>(lines.size());
        long seq = last - lines.size();
        for (String l : lines) stored.add(new LogLine(ownerId, ++seq, now, l));
        publish(ownerId, stored);
      }
    }

    @Override
    public void close() {
      if (closed) return;
      closed = true;
      writers.remove(this);
      flush();
    }
  }

  private final class Follower {
    private final String ownerId;
    private final Consumer<LogLine> consumer;
    private long last;
    private volatile boolean closed;

    Follower(String ownerId, long afterSeq, Consumer<LogLine> consumer) {
      this.ownerId = ownerId;
      this.last = afterSeq;
      this.consumer = consumer;
    }

    synchronized void live(List<LogLine> lines) {
      for (LogLine l : lines) {
        if (closed) return;
        if (l.seq() <= last) continue;
        if (l.seq() > last + 1) catchUp(l.seq() - 1);
        if (l.seq() == last + 1) deliver(l);
      }
    }

    synchronized void catchUpAndMaybeEnd() {
      if (closed) return;
      // Read "finished" before the lines: lines are flushed before an owner ends, so all of them are stored by then.
      boolean done = finished.test(ownerId);
      catchUp(Long.MAX_VALUE);
      if (done) close();
    }

    private void catchUp(long upTo) {
      while (!closed && last < upTo) {
        List<LogLine> page = store.readLog(ownerId, last, PAGE);
        for (LogLine l : page) {
          if (l.seq() > upTo || closed) return;
          deliver(l);
        }
        if (page.size() < PAGE) return;
      }
    }

    private void deliver(LogLine l) {
      try {
        consumer.accept(l);
        last = l.seq();
      } catch (RuntimeException e) {
        LOG.warn("log follower of {} failed; it is removed", ownerId, e);
        close();
      }
    }

    void close() {
      closed = true;
      followers.computeIfPresent(ownerId, (k, v) -> {
        v.remove(this);
        return v.isEmpty() ? null : v;
      });
    }
  }
}
