package dev.byop.testkit;

import dev.byop.core.CancelledException;
import dev.byop.core.spi.Cancellation;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One step of a fake provider (fetch, build, push, deploy): outcomes queued by the test are played one per call,
 * then the default ({@link Outcome#succeed()} unless changed). Counts calls, and lets a test wait until a call began.
 */
public final class ScriptedStep {
  private final String name;
  private final Deque<Outcome> queued = new ArrayDeque<>();
  private Outcome always = Outcome.succeed();
  private int calls;

  ScriptedStep(String name) {
    this.name = name;
  }

  /** The step's name, e.g. {@code build}. */
  public String name() {
    return name;
  }

  /** The next calls play these outcomes, in order; later calls play the default again. */
  public synchronized ScriptedStep then(Outcome... outcomes) {
    for (Outcome o : outcomes) queued.add(o);
    return this;
  }

  /** Every call without a queued outcome plays this one. */
  public synchronized ScriptedStep always(Outcome outcome) {
    this.always = outcome;
    return this;
  }

  /** How many times byop called this step. */
  public synchronized int calls() {
    return calls;
  }

  /**
   * Waits until byop has called this step at least {@code count} times.
   *
   * @throws AssertionError when that did not happen within {@code timeout}
   */
  public synchronized void awaitCalls(int count, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (calls < count) {
      long left = deadline - System.nanoTime();
      if (left <= 0) throw new AssertionError("step " + name + " was called " + calls + " time(s), expected " + count
          + " within " + timeout);
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }

  /**
   * Plays the next outcome for one call: returns when it succeeds, else throws {@code failure.apply(message)}, or a
   * {@link CancelledException} when the job is cancelled while the step is slow or hangs.
   */
  void play(Cancellation cancellation, Function<String, RuntimeException> failure) {
    Outcome o;
    synchronized (this) {
      o = queued.isEmpty() ? always : queued.poll();
      calls++;
      notifyAll();
    }
    cancellation.throwIfCancelled();
    if (o.kind() == Outcome.Kind.HANG || !o.delay().isZero()) {
      CountDownLatch cancelled = new CountDownLatch(1);
      try (AutoCloseable h = cancellation.onCancel(cancelled::countDown)) {
        if (o.kind() == Outcome.Kind.HANG) {
          cancelled.await();
        } else {
          cancelled.await(o.delay().toNanos(), TimeUnit.NANOSECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CancelledException("interrupted in scripted step " + name);
      } catch (Exception e) {
        throw new IllegalStateException("removing the cancellation callback failed", e);
      }
      cancellation.throwIfCancelled();
    }
    if (o.kind() == Outcome.Kind.FAIL) throw failure.apply(o.message());
  }
}
