package dev.byop.examples;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The main job's console output: step lines, indented log lines, and for a long step a progress display — a spinner
 * with the elapsed time redrawn in place on a terminal, or a "still working" line every 15 seconds when the output is
 * a file or a pipe. Safe to call from byop's listener threads.
 */
final class Progress implements AutoCloseable {
  private static final String[] SPIN = {"|", "/", "-", "\\"};
  private final PrintStream out;
  private final boolean terminal;
  private final ScheduledExecutorService ticker;
  private @Nullable String activity;
  private long activitySince;
  private long lastNote;
  private int frame;
  private boolean drawn;

  Progress(PrintStream out, boolean terminal) {
    this.out = out;
    this.terminal = terminal;
    this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "progress");
      t.setDaemon(true);
      return t;
    });
    ticker.scheduleAtFixedRate(this::tick, 250, 250, TimeUnit.MILLISECONDS);
  }

  /** A step of the job, e.g. "Building the sample app". */
  synchronized void step(String text) {
    clear();
    out.println("==> " + text);
  }

  /** A fact worth reading, e.g. which router was chosen. */
  synchronized void info(String text) {
    clear();
    out.println("    " + text);
  }

  /** A log line of a build or preview. */
  synchronized void log(String prefix, String text) {
    clear();
    out.println("    " + prefix + " | " + text);
  }

  /** Starts (or renames) the long-running activity shown by the progress display; null stops it. */
  synchronized void activity(@Nullable String text) {
    clear();
    if (text != null && !text.equals(activity)) {
      activitySince = System.nanoTime();
      lastNote = activitySince;
    }
    activity = text;
  }

  private synchronized void tick() {
    if (activity == null) return;
    long now = System.nanoTime();
    String elapsed = format(Duration.ofNanos(now - activitySince));
    if (terminal) {
      out.print("\r    " + SPIN[frame++ % SPIN.length] + " " + activity + " (" + elapsed + ")\u001b[K");
      out.flush();
      drawn = true;
    } else if (now - lastNote >= TimeUnit.SECONDS.toNanos(15)) {
      out.println("    ... " + activity + " (" + elapsed + ")");
      lastNote = now;
    }
  }

  private void clear() {
    if (drawn) {
      out.print("\r\u001b[K");
      drawn = false;
    }
  }

  static String format(Duration d) {
    long s = d.toSeconds();
    return s < 60 ? String.format(Locale.ROOT, "%.1fs", d.toMillis() / 1000.0)
        : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
  }

  @Override
  public synchronized void close() {
    activity = null;
    clear();
    ticker.shutdownNow();
    out.flush();
  }
}
