package dev.byop.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LeasedWorkerPoolTest {
  @Test
  void renewsAtAThirdOfTheLeaseAndFiresCancellationWhenTheLeaseIsLost() throws Exception {
    Queue<String> items = new ConcurrentLinkedQueue<>(java.util.List.of("a"));
    AtomicInteger renewals = new AtomicInteger();
    CountDownLatch cancelled = new CountDownLatch(1);
    String[] reason = new String[1];
    var handler = new LeasedWorkerPool.Handler<String>() {
      @Override
      public Optional<String> claim(String workerId, Instant now, Duration lease) {
        return Optional.ofNullable(items.poll());
      }

      @Override
      public boolean renew(String item, String workerId, Instant now, Duration lease) {
        return renewals.incrementAndGet() < 3;
      }

      @Override
      public void process(String item, LeasedWorkerPool.Lease lease) {
        try (AutoCloseable h = lease.cancellation().onCancel(cancelled::countDown)) {
          assertTrue(cancelled.await(10, TimeUnit.SECONDS));
          reason[0] = lease.cancellation().reason() + " lost=" + lease.lost();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
    };
    long t0 = System.nanoTime();
    try (var pool = new LeasedWorkerPool<>("t", "i", 1, Duration.ofMillis(300), Duration.ofMillis(10),
        Duration.ofSeconds(1), Clock.systemUTC(), handler, new Redactor(), null)) {
      pool.start();
      assertTrue(cancelled.await(10, TimeUnit.SECONDS));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertEquals(3, renewals.get());
      assertTrue(ms >= 280, "third renewal (at 3 x 100ms) failed after " + ms + "ms");
    }
    assertEquals("lease lost lost=true", reason[0]);
  }

  @Test
  void wakeUpClaimsAtOnceAndCloseAbandonsRunningWork() throws Exception {
    Queue<String> items = new ConcurrentLinkedQueue<>();
    CountDownLatch started = new CountDownLatch(1);
    boolean[] abandoned = new boolean[1];
    var handler = new LeasedWorkerPool.Handler<String>() {
      @Override
      public Optional<String> claim(String workerId, Instant now, Duration lease) {
        return Optional.ofNullable(items.poll());
      }

      @Override
      public boolean renew(String item, String workerId, Instant now, Duration lease) {
        return true;
      }

      @Override
      public void process(String item, LeasedWorkerPool.Lease lease) {
        started.countDown();
        CountDownLatch stop = new CountDownLatch(1);
        try (AutoCloseable h = lease.cancellation().onCancel(stop::countDown)) {
          stop.await(10, TimeUnit.SECONDS);
          abandoned[0] = lease.abandoned();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
    };
    var pool = new LeasedWorkerPool<>("t", "i", 2, Duration.ofSeconds(30), Duration.ofSeconds(30),
        Duration.ofSeconds(30), Clock.systemUTC(), handler, new Redactor(), null);
    pool.start();
    items.add("x");
    pool.wakeUp();
    assertTrue(started.await(5, TimeUnit.SECONDS), "woken up long before the 30s poll");
    pool.close();
    pool.close();
    assertTrue(abandoned[0]);
  }

  @Test
  void exceptionsThePoolLogsNeverShowAConfiguredSecret() throws Exception {
    String secret = "canary-" + java.util.UUID.randomUUID();
    Queue<String> items = new ConcurrentLinkedQueue<>(List.of("x"));
    AtomicInteger claims = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(1);
    var handler = new LeasedWorkerPool.Handler<String>() {
      @Override
      public Optional<String> claim(String workerId, Instant now, Duration lease) {
        if (claims.incrementAndGet() == 1) throw new IllegalStateException("store said: password " + secret);
        return Optional.ofNullable(items.poll());
      }

      @Override
      public boolean renew(String item, String workerId, Instant now, Duration lease) {
        return true;
      }

      @Override
      public void process(String item, LeasedWorkerPool.Lease lease) {
        lease.cancellation().onCancel(() -> {
          throw new IllegalStateException("callback saw " + secret);
        });
        lease.cancellation().cancel("test");
        done.countDown();
        throw new IllegalStateException("handler leaked " + secret + "\nsecond line");
      }
    };
    // slf4j-simple (the tests' binding) writes to whatever System.err is at the time of each call
    java.io.PrintStream realErr = System.err;
    java.io.ByteArrayOutputStream logged = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(logged, true, java.nio.charset.StandardCharsets.UTF_8));
    try (var pool = new LeasedWorkerPool<>("t", "i", 1, Duration.ofSeconds(30), Duration.ofMillis(10),
        Duration.ofSeconds(30), Clock.systemUTC(), handler, new Redactor().add(secret), null)) {
      pool.start();
      assertTrue(done.await(10, TimeUnit.SECONDS));
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (!logged.toString(java.nio.charset.StandardCharsets.UTF_8).contains("processing failed unexpectedly")
          && System.nanoTime() < until) {
        Thread.sleep(10);
      }
    } finally {
      System.setErr(realErr);
    }
    String text = logged.toString(java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(text.contains("claiming failed") && text.contains("store said: password ******"), text);
    assertTrue(text.contains("cancellation callback failed") && text.contains("callback saw ******"), text);
    assertTrue(text.contains("processing failed unexpectedly") && text.contains("handler leaked ******"), text);
    assertTrue(!text.contains(secret), text);
  }
}
