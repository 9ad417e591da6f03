package dev.byop.preview.local;

import dev.byop.core.BuildException;
import dev.byop.core.ImageReference;
import dev.byop.core.spi.ImageBuilder;
import dev.byop.core.spi.ImageBuilderFactory;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.ProviderContext;
import dev.byop.preview.compose.CommandResult;
import dev.byop.testing.Testbed;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small in-test image builder backed by the bed's engine: {@code git clone} + {@code git checkout} and
 * {@code /usr/bin/docker build}, both as argument lists; images land in the local engine (a registry client then
 * pushes them from there, so the engine also holds the pushed reference). A test can hold builds before they start
 * ({@link #hold}), to act on them while they are BUILDING.
 */
public final class CliImageBuilder implements ImageBuilder {
  public final AtomicInteger builds = new AtomicInteger();
  /** Builds that have entered {@link #build} and wait for {@link #hold} to open (or their cancellation). */
  public final AtomicInteger held = new AtomicInteger();
  /** While set and not counted down, every build waits for it before it runs; cancellation still stops it. */
  public volatile java.util.concurrent.@org.jspecify.annotations.Nullable CountDownLatch hold;
  private final Testbed.Engine engine;
  private final Path work;

  public CliImageBuilder(Testbed bed, Path work) {
    this(bed.docker20(), work);
  }

  /** Building on an engine of the bed's matrix. */
  public CliImageBuilder(Testbed.Engine engine, Path work) {
    this.engine = engine;
    this.work = work;
  }

  /** A factory handing out this builder. */
  public ImageBuilderFactory factory() {
    CliImageBuilder self = this;
    return new ImageBuilderFactory() {
      @Override
      public String id() {
        return "docker-cli";
      }

      @Override
      public ImageBuilder create(ProviderContext context) {
        return self;
      }
    };
  }

  private CommandResult run(List<String> argv, JobContext ctx, Path dir) {
    CommandResult res = TestApps.runner(engine).inDirectory(dir)
        .run(argv, ctx.log(), Duration.ofMinutes(3), ctx.cancellation());
    if (!res.ok()) throw new BuildException(String.join(" ", argv) + " failed: " + res.tail(10));
    return res;
  }

  @Override
  public BuilderCapabilities capabilities() {
    return new BuilderCapabilities("docker cli (test)", null, List.of(), false, Map.of());
  }

  @Override
  public SourceCheckout fetchSource(FetchRequest request, JobContext context) {
    try {
      Path dir = Files.createTempDirectory(work, "checkout");
      run(List.of("git", "clone", "-q", "--", request.component().source().url(), dir.toString()), context, work);
      String rev = request.revision() != null ? request.revision() : request.component().source().revision();
      run(List.of("git", "checkout", "-q", rev, "--"), context, dir);
      String commit = run(List.of("git", "rev-parse", "HEAD"), JobContext.of("x", l -> { }), dir).output().get(0).trim();
      return new SourceCheckout(dir, dir.resolve(request.component().contextDir()), commit);
    } catch (IOException e) {
      throw new BuildException("checkout failed: " + e.getMessage());
    }
  }

  @Override
  public BuildResult build(BuildRequest request, JobContext context) {
    java.util.concurrent.CountDownLatch gate = hold;
    if (gate != null) {
      held.incrementAndGet();
      try {
        while (!gate.await(20, java.util.concurrent.TimeUnit.MILLISECONDS)) context.cancellation().throwIfCancelled();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new dev.byop.core.CancelledException("interrupted");
      } finally {
        held.decrementAndGet();
      }
    }
    builds.incrementAndGet();
    List<String> argv = new ArrayList<>(List.of(engine.cli().toString(), "build", "--progress", "plain", "-t",
        request.image().familiar()));
    request.config().labels().forEach((k, v) -> argv.addAll(List.of("--label", k + "=" + v)));
    argv.add(request.checkout().contextDir().toString());
    run(argv, context, request.checkout().directory());
    return new BuildResult(request.image(), null, Optional.empty());
  }

  @Override
  public boolean hasImage(ImageReference image) {
    return TestApps.runner(engine)
        .run(List.of(engine.cli().toString(), "image", "inspect", "--format", "{{.Id}}", image.familiar()),
            l -> { }, Duration.ofSeconds(30)).ok();
  }

  @Override
  public void cleanup(SourceCheckout checkout) {
    try (var files = Files.walk(checkout.directory())) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // temp dir of the test
    }
  }

  @Override
  public void close() { }
}
