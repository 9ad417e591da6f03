package dev.byop.store.jdbc;

import dev.byop.core.CancelledException;
import dev.byop.core.Credentials;
import dev.byop.core.ImageReference;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.RegistryClient;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** An in-test registry client: records pushes and can block in one. */
public class FakeRegistry implements RegistryClient {
  public static final String DIGEST = "sha256:" + "c".repeat(64);
  public volatile boolean block;
  public volatile boolean ignoreCancellation;
  public final CountDownLatch entered = new CountDownLatch(1);
  public final CountDownLatch release = new CountDownLatch(1);
  public final CountDownLatch cancelSeen = new CountDownLatch(1);
  public final Queue<PushRequest> pushes = new ConcurrentLinkedQueue<>();
  /** What {@link #resolveDigest} answers, by image reference without digest. */
  public final java.util.Map<String, String> held = new java.util.concurrent.ConcurrentHashMap<>();

  @Override
  public PushResult push(PushRequest request, JobContext context) {
    pushes.add(request);
    context.log().line("push " + request.target());
    if (block) {
      try (AutoCloseable h = context.cancellation().onCancel(cancelSeen::countDown)) {
        entered.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && !release.await(10, TimeUnit.MILLISECONDS)) {
          if (!ignoreCancellation && context.cancellation().isCancelled()) {
            throw new CancelledException(context.cancellation().reason());
          }
        }
      } catch (CancelledException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    return new PushResult(request.target().withDigest(DIGEST), DIGEST);
  }

  @Override
  public Optional<String> resolveDigest(ImageReference image, Credentials credentials) {
    return Optional.ofNullable(held.get(image.withoutDigest().toString()));
  }

  @Override
  public void close() { }
}
