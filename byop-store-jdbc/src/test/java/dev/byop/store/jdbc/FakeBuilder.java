package dev.byop.store.jdbc;

import dev.byop.core.CancelledException;
import dev.byop.core.ImageReference;
import dev.byop.core.spi.ImageBuilder;
import dev.byop.core.spi.JobContext;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** An in-test builder: records calls, writes log lines, and can block in a step (honouring cancellation or not). */
public class FakeBuilder implements ImageBuilder {
  public static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

  /** Where a test can make the builder wait. */
  public enum Step { NONE, FETCH, BUILD }

  public volatile boolean canPush;
  public volatile Step blockIn = Step.NONE;
  public volatile boolean ignoreCancellation;
  public volatile int extraLines;
  public volatile String secretToLog;
  public final CountDownLatch entered = new CountDownLatch(1);
  public final CountDownLatch release = new CountDownLatch(1);
  public final CountDownLatch cancelSeen = new CountDownLatch(1);
  public final Map<String, AtomicInteger> builds = new ConcurrentHashMap<>();
  public final Queue<String> buildOrder = new ConcurrentLinkedQueue<>();
  /** Builds running now, per app and per (app, component). */
  public final Map<String, AtomicInteger> runningPerApp = new ConcurrentHashMap<>();
  public final Map<String, AtomicInteger> runningPerComponent = new ConcurrentHashMap<>();
  /** Builds that started while another build of the same component ran (the store's ordering forbids it). */
  public final AtomicInteger overlaps = new AtomicInteger();
  /** Builds that started while another build of the same app (another component) ran (the ordering allows it). */
  public final AtomicInteger appOverlaps = new AtomicInteger();
  /** The image labels each job's build was given. */
  public final Map<String, Map<String, String>> labels = new ConcurrentHashMap<>();
  /** How many builds are inside {@link #build} now. */
  public final AtomicInteger inBuild = new AtomicInteger();

  @Override
  public BuilderCapabilities capabilities() {
    return new BuilderCapabilities("fake", "1", List.of("linux/amd64"), canPush, Map.of());
  }

  @Override
  public SourceCheckout fetchSource(FetchRequest request, JobContext context) {
    context.log().line("fetch " + request.component().name());
    if (blockIn == Step.FETCH) block(context);
    return new SourceCheckout(Path.of("/nonexistent"), Path.of("/nonexistent"), COMMIT);
  }

  @Override
  public BuildResult build(BuildRequest request, JobContext context) {
    AtomicInteger app = runningPerApp.computeIfAbsent(request.appId(), k -> new AtomicInteger());
    AtomicInteger running = runningPerComponent.computeIfAbsent(request.appId() + "/" + request.component().name(),
        k -> new AtomicInteger());
    if (running.incrementAndGet() > 1) overlaps.incrementAndGet();
    if (app.incrementAndGet() > 1) appOverlaps.incrementAndGet();
    inBuild.incrementAndGet();
    try {
      builds.computeIfAbsent(context.ownerId(), k -> new AtomicInteger()).incrementAndGet();
      buildOrder.add(request.appId() + " " + request.component().name() + " " + context.ownerId());
      labels.put(context.ownerId(), request.config().labels());
      context.log().line("build " + request.image());
      if (secretToLog != null) context.log().line("using secret " + secretToLog + " here");
      for (int i = 0; i < extraLines; i++) context.log().line("line " + i);
      request.secrets().forEach((id, s) -> context.log().line("secret " + id + "=" + s.reveal()));
      if (request.registryCredentials() != null) {
        context.log().line("login " + request.registryCredentials().secret().reveal());
      }
      if (blockIn == Step.BUILD) block(context);
      Optional<String> digest = request.push() ? Optional.of("sha256:" + "b".repeat(64)) : Optional.empty();
      return new BuildResult(request.image(), "sha256:" + "a".repeat(64), digest);
    } finally {
      inBuild.decrementAndGet();
      app.decrementAndGet();
      running.decrementAndGet();
    }
  }

  /** Waits for the test's release, or the job's cancellation unless told to ignore it. */
  protected void block(JobContext context) {
    try (AutoCloseable h = context.cancellation().onCancel(cancelSeen::countDown)) {
      entered.countDown();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline) {
        if (release.await(10, TimeUnit.MILLISECONDS)) return;
        if (!ignoreCancellation && context.cancellation().isCancelled()) {
          throw new CancelledException(context.cancellation().reason());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CancelledException("interrupted");
    } catch (CancelledException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The image a build of this component would get pushed as. */
  /** The factory a test registers with {@code Byop.builder()} so that {@code builder} is the instance's builder. */
  public static dev.byop.core.spi.ImageBuilderFactory factory(ImageBuilder builder) {
    return new dev.byop.core.spi.ImageBuilderFactory() {
      @Override
      public String id() {
        return "fake";
      }

      @Override
      public ImageBuilder create(dev.byop.core.spi.ProviderContext context) {
        return builder;
      }
    };
  }

  public static String imageFor(String registry, String app, String component) {
    return ImageReference.parse(registry + "/byop/" + app + "/" + component + ":" + COMMIT.substring(0, 12)).toString();
  }

  @Override
  public void close() { }
}
