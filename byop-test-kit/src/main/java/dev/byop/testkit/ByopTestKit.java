package dev.byop.testkit;

import dev.byop.core.Byop;
import dev.byop.core.ByopConfig;
import dev.byop.core.ByopListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A {@link Byop} for tests: the in-memory store, the {@link ByopFakes} as builder, registry and preview deployer, a
 * temporary data directory, and fast orchestrator timings. Closing it closes the {@code Byop}, drops the database
 * and deletes the directory. {@link ByopExtension} makes one per test; use this class directly elsewhere.
 *
 * <pre>{@code
 * try (ByopTestKit kit = ByopTestKit.builder().build()) {
 *   kit.fakes().failAt(BuildStatus.PUSHING, "registry down");
 *   kit.byop().store().saveApp(app);
 * }
 * }</pre>
 */
public final class ByopTestKit implements AutoCloseable {
  /** The registry address the scripted registry stands for; images are pushed as {@code registry.test/<app>/<c>}. */
  public static final String REGISTRY = "registry.test";

  private final Path dataDir;
  private final MemoryStoreFactory storeFactory = new MemoryStoreFactory();
  private final ByopFakes fakes;
  private final Byop byop;
  private boolean closed;

  private ByopTestKit(Builder b) {
    try {
      this.dataDir = Files.createTempDirectory("byop-test-kit");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.fakes = new ByopFakes(dataDir.resolve("checkout"));
    Map<String, Object> config = defaults(dataDir);
    merge(config, b.config);
    Byop.Builder bb = fakes.registerWith(Byop.builder()).register(storeFactory).config(ByopConfig.of(config));
    b.listeners.forEach(bb::listener);
    b.customizers.forEach(c -> c.accept(bb));
    try {
      this.byop = bb.build();
    } catch (RuntimeException e) {
      cleanUp(e);
      throw e;
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The configuration every kit starts from, before the test's own is merged over it. */
  static Map<String, Object> defaults(Path dataDir) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("dataDir", dataDir.toString());
    c.put("store", new LinkedHashMap<>(Map.of("provider", MemoryStoreFactory.ID)));
    c.put("builder", new LinkedHashMap<>(Map.of("provider", ByopFakes.ID)));
    c.put("registry", new LinkedHashMap<>(Map.of("provider", ByopFakes.ID, "address", REGISTRY)));
    c.put("preview", new LinkedHashMap<>(Map.of("provider", ByopFakes.ID)));
    // fast enough that a test waits milliseconds, long enough that a busy CI machine renews leases in time
    c.put("orchestrator", new LinkedHashMap<>(Map.of("workers", 2, "lease", "5s", "pollInterval", "20ms",
        "jobTimeout", "2m")));
    return c;
  }

  /** Nested maps merge key by key; anything else from {@code over} replaces. */
  @SuppressWarnings("unchecked")
  static void merge(Map<String, Object> into, Map<String, ?> over) {
    over.forEach((k, v) -> {
      Object old = into.get(k);
      if (old instanceof Map<?, ?> om && v instanceof Map<?, ?> vm) {
        Map<String, Object> copy = new LinkedHashMap<>((Map<String, Object>) om);
        merge(copy, (Map<String, ?>) vm);
        into.put(k, copy);
      } else {
        into.put(k, v);
      }
    });
  }

  /** The instance under test. */
  public Byop byop() {
    return byop;
  }

  /** The scripted providers, to decide outcomes and to check what byop asked of them. */
  public ByopFakes fakes() {
    return fakes;
  }

  /** The temporary data directory. */
  public Path dataDir() {
    return dataDir;
  }

  /** Closes the {@code Byop}, drops the in-memory database and deletes the data directory; safe to call twice. */
  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    RuntimeException failure = null;
    try {
      byop.close();
    } catch (RuntimeException e) {
      failure = e;
    }
    cleanUp(failure);
    if (failure != null) throw failure;
  }

  private void cleanUp(@Nullable RuntimeException pending) {
    try {
      storeFactory.close();
      deleteTree(dataDir);
    } catch (RuntimeException e) {
      if (pending != null) pending.addSuppressed(e);
      else throw e;
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) return;
    try {
      Files.walkFileTree(root, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.delete(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, @Nullable IOException exc) throws IOException {
          Files.delete(dir);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Assembles a {@link ByopTestKit}. */
  public static final class Builder {
    private final Map<String, Object> config = new LinkedHashMap<>();
    private final List<ByopListener> listeners = new ArrayList<>();
    private final List<Consumer<Byop.Builder>> customizers = new ArrayList<>();

    private Builder() { }

    /** Configuration merged over the kit's defaults, same keys as {@code byop.yml} (e.g. {@code preview.maxPerApp}). */
    public Builder config(Map<String, ?> values) {
      merge(config, values);
      return this;
    }

    public Builder listener(ByopListener listener) {
      listeners.add(listener);
      return this;
    }

    /** Anything else on the {@code Byop} builder, e.g. registering a real provider instead of a fake. */
    public Builder customize(Consumer<Byop.Builder> customizer) {
      customizers.add(customizer);
      return this;
    }

    public ByopTestKit build() {
      return new ByopTestKit(this);
    }
  }
}
