package dev.byop.core;

import dev.byop.core.ProviderException.Rejection;
import dev.byop.core.internal.DefaultBuildOrchestrator;
import dev.byop.core.internal.DefaultPreviewManager;
import dev.byop.core.internal.Listeners;
import dev.byop.core.internal.Redactor;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.CloudProviderFactory;
import dev.byop.core.spi.ImageBuilder;
import dev.byop.core.spi.ImageBuilderFactory;
import dev.byop.core.spi.PreviewDeployer;
import dev.byop.core.spi.PreviewDeployerFactory;
import dev.byop.core.spi.ProviderContext;
import dev.byop.core.spi.ProviderFactory;
import dev.byop.core.spi.RegistryClient;
import dev.byop.core.spi.RegistryClientFactory;
import dev.byop.core.spi.Store;
import dev.byop.core.spi.StoreFactory;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry point: assembles the store, image builder, registry client, cloud provider and preview deployer from
 * registered or discovered providers, and closes everything it opened.
 *
 * <pre>{@code
 * try (Byop byop = Byop.builder()
 *     .config(ByopConfig.load(Path.of("byop.yml")))
 *     .discover(Thread.currentThread().getContextClassLoader())
 *     .build()) {
 *   byop.store().saveApp(app);
 * }
 * }</pre>
 *
 * <p>The store is required and opened at {@link Builder#build()}; the other providers are opened on first use, so a
 * host that only reads the store needs no Docker. When a kind has no fitting provider, using it throws one
 * {@link ProviderException} that lists every candidate and why it was rejected. The {@code preview} section is checked
 * as a whole at {@link Builder#build()}: a key that neither the preview manager nor the chosen deployer reads is a
 * {@link ConfigException} naming it.
 */
public final class Byop implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Byop.class);

  /** The provider kinds, with their configuration section names. */
  public enum Kind {
    STORE("store"), BUILDER("builder"), REGISTRY("registry"), CLOUD("cloud"), PREVIEW("preview");

    private final String section;

    Kind(String section) {
      this.section = section;
    }

    /** The configuration section of this kind. */
    public String section() {
      return section;
    }
  }

  /**
   * What was chosen for one kind, or why nothing was.
   *
   * @param kind the kind
   * @param id the chosen provider id, or null
   * @param implementation the chosen factory's class name, or null
   * @param passedOver candidates not chosen and why
   * @param detail what the chosen provider will use and how it found it (e.g. the Docker endpoint from the CLI's
   *     current context), or {@code applicable} when it says nothing more; empty when none was chosen
   */
  public record ProviderChoice(Kind kind, @Nullable String id, @Nullable String implementation,
      List<Rejection> passedOver, String detail) {}

  private final ByopConfig config;
  /** The configuration's secrets, for {@link #masked}. */
  private final Redactor masker;
  private final Listeners listeners;
  private final Map<Kind, ProviderSelector<?>> selectors;
  private final Map<Kind, Object> opened = new LinkedHashMap<>();
  private final Deque<AutoCloseable> closeables = new ArrayDeque<>();
  private final Store store;
  private @Nullable DefaultPreviewManager previews;
  private boolean closed;
  private @Nullable DefaultBuildOrchestrator orchestrator;
  /** The host application's executor, or null: byop's workers then run on threads of byop's own. */
  private final java.util.concurrent.@Nullable ExecutorService executor;

  private Byop(Builder b) {
    this.config = b.config;
    this.masker = new Redactor().addAll(config.secrets());
    this.executor = b.executor;
    checkExecutor(config, executor);
    this.listeners = new Listeners(b.listeners, new Redactor().addAll(config.secrets()));
    this.selectors = b.selectors;
    selectors.values().forEach(s -> s.providers(this::find));
    checkPreviewSettings();
    this.store = open(Kind.STORE, () -> selector(Kind.STORE, Store.class).create(config));
  }

  /**
   * Checks the {@code preview} section as a whole, once, before anything opens: the manager's keys plus those the
   * chosen deployer declares, then the deployer's own values, then the manager's.
   */
  private void checkPreviewSettings() {
    Settings s = config.section(Kind.PREVIEW.section());
    if (s.isEmpty()) return;
    ProviderSelector<PreviewDeployer> sel = selector(Kind.PREVIEW, PreviewDeployer.class);
    Optional<ProviderSelector.Selection<PreviewDeployer>> chosen;
    try {
      chosen = sel.trySelect(config);
    } catch (ProviderException e) {
      chosen = Optional.empty(); // reported with every rejection when previews are first used
    }
    // the factory the section names is checked even when it is not applicable: bad settings are a common reason why
    ProviderFactory<PreviewDeployer> factory = chosen.map(ProviderSelector.Selection::factory).orElseGet(() ->
        config.providerId(Kind.PREVIEW.section()).flatMap(id -> sel.candidates(new ArrayList<>()).stream()
            .filter(f -> f.id().equals(id)).findFirst()).orElse(null));
    if (factory != null) {
      java.util.Set<String> own = factory.settingsKeys();
      if (!own.isEmpty()) {
        java.util.Set<String> allowed = new java.util.LinkedHashSet<>(PreviewManager.SETTINGS_KEYS);
        allowed.addAll(own);
        s.allowOnly(allowed.toArray(String[]::new));
      }
      factory.checkSettings(sel.context(config));
    }
    DefaultPreviewManager.Options.from(config);
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Refuses a host executor that cannot run every worker at once: each build and preview worker is one long-running
   * task, and a preview worker waits for its build jobs, so an executor with fewer threads than both pools together
   * could leave previews waiting for builds that never get a thread.
   */
  private static void checkExecutor(ByopConfig config, java.util.concurrent.@Nullable ExecutorService executor) {
    if (executor == null) return;
    if (executor.isShutdown()) {
      throw new ValidationException("executorService", executor.toString(), "must not be shut down");
    }
    int needed = 2 * config.orchestrator().workers();
    if (executor instanceof java.util.concurrent.ThreadPoolExecutor t && t.getMaximumPoolSize() < needed) {
      throw new ValidationException("executorService", "maximumPoolSize=" + t.getMaximumPoolSize(),
          "must run at least " + needed + " tasks at once (orchestrator.workers build workers plus as many preview "
              + "workers, each a long-running task)");
    }
  }

  public ByopConfig config() {
    return config;
  }

  /**
   * What a host application logs instead of {@code t}: {@code t} itself when no message in its cause chain holds one
   * of the configuration's secrets (git token, registry and store passwords), else a copy with them masked, with the
   * original class names and stack traces. byop's own logs and messages are masked already; this is for exceptions
   * the host catches and logs itself.
   */
  public Throwable masked(Throwable t) {
    return masker.safe(t);
  }

  /** {@code text} with every secret of the configuration masked (see {@link #masked(Throwable)}). */
  public String masked(String text) {
    return masker.redact(text);
  }

  /** The durable store (apps, build jobs, logs, previews). */
  public Store store() {
    return store;
  }

  /** The image builder; throws {@link ProviderException} listing the candidates when none fits. */
  public ImageBuilder imageBuilder() {
    return open(Kind.BUILDER, () -> selector(Kind.BUILDER, ImageBuilder.class).create(config));
  }

  /** The registry client, or empty when no provider fits (images then stay in the builder's local engine). */
  public Optional<RegistryClient> registryClient() {
    return optional(Kind.REGISTRY, RegistryClient.class);
  }

  /** The cloud provider for remote previews, or empty when none is configured or fits. */
  public Optional<CloudProvider> cloudProvider() {
    synchronized (this) {
      if (opened.containsKey(Kind.CLOUD)) return Optional.of((CloudProvider) opened.get(Kind.CLOUD));
    }
    ProviderSelector<CloudProvider> s = selector(Kind.CLOUD, CloudProvider.class);
    // every lease goes to the store and the recorded ones come back on opening: a restart loses no host slot
    return s.trySelect(config).map(sel -> open(Kind.CLOUD,
        () -> CloudProvider.recording(s.create(sel.factory(), config), store)));
  }

  /** The preview deployer; throws {@link ProviderException} listing the candidates when none fits. */
  public PreviewDeployer previewDeployer() {
    return open(Kind.PREVIEW, () -> selector(Kind.PREVIEW, PreviewDeployer.class).create(config));
  }

  /**
   * The build orchestrator, made on first use from the store, {@link #imageBuilder()}, {@link #registryClient()} and
   * the {@code orchestrator} section; its workers start at once and stop when this instance is closed.
   */
  public BuildOrchestrator orchestrator() {
    return buildOrchestrator();
  }

  /** The one orchestrator, which also builds the previews' images. */
  private synchronized DefaultBuildOrchestrator buildOrchestrator() {
    if (closed) throw new ByopException("byop is closed");
    if (orchestrator == null) {
      ImageBuilder builder = imageBuilder();
      RegistryClient registry = registryClient().orElse(null);
      orchestrator = new DefaultBuildOrchestrator(store, builder, registry, DefaultBuildOrchestrator.Options.from(config),
          events(), Clock.systemUTC(), executor);
      closeables.push(orchestrator);
    }
    return orchestrator;
  }

  /**
   * The preview manager, created on first use with the {@code preview} and {@code orchestrator} configuration; its
   * workers start then and stop at {@link #close()}, before the providers they use are closed. Previews build their
   * images as jobs of {@link #orchestrator()} (made when the first preview builds).
   */
  public synchronized PreviewManager previews() {
    if (closed) throw new ByopException("byop is closed");
    if (previews == null) {
      String deployerId = config.providerId(Kind.PREVIEW.section()).orElseGet(() ->
          selector(Kind.PREVIEW, PreviewDeployer.class).trySelect(config).map(s -> s.factory().id()).orElse("none"));
      previews = new DefaultPreviewManager(store, this::buildOrchestrator, this::previewDeployer, deployerId, listeners,
          DefaultPreviewManager.Options.from(config), java.time.Clock.systemUTC(), executor);
    }
    return previews;
  }

  /** What {@link ProviderContext#providers()} answers: this instance's providers, opened on first use. */
  private <T> Optional<T> find(Class<T> type) {
    Object found;
    if (type == CloudProvider.class) found = cloudProvider().orElse(null);
    else if (type == RegistryClient.class) found = registryClient().orElse(null);
    else if (type == ImageBuilder.class) found = imageBuilder();
    else if (type == Store.class) found = store;
    else if (type == ByopListener.class) found = listeners; // providers report what the listener interface has
    else found = null;
    return Optional.ofNullable(type.cast(found));
  }

  /** Listeners get every status change and log line of builds and previews. */
  public void addListener(ByopListener listener) {
    listeners.add(listener);
  }

  public void removeListener(ByopListener listener) {
    listeners.remove(listener);
  }

  /** The fan-out listener that byop's own machinery reports to. */
  public ByopListener events() {
    return listeners;
  }

  /** What each kind would use with this configuration, and what was passed over; opens nothing. */
  public List<ProviderChoice> describeProviders() {
    List<ProviderChoice> out = new ArrayList<>();
    for (Kind k : Kind.values()) {
      ProviderSelector<?> s = selectors.get(k);
      out.add(describe(k, s));
    }
    return out;
  }

  private <T> ProviderChoice describe(Kind k, ProviderSelector<T> s) {
    try {
      return s.trySelect(config)
          .map(sel -> new ProviderChoice(k, sel.factory().id(), sel.factory().getClass().getName(), sel.passedOver(),
              sel.detail()))
          .orElseGet(() -> new ProviderChoice(k, null, null, s.rejections(config), ""));
    } catch (ProviderException e) {
      return new ProviderChoice(k, null, null, e.rejections(), "");
    }
  }

  /** Registers something this instance must close, in reverse order of registration. */
  public synchronized void closeOnExit(AutoCloseable resource) {
    closeables.push(resource);
  }

  @SuppressWarnings("unchecked")
  private <T> ProviderSelector<T> selector(Kind k, Class<T> type) {
    return (ProviderSelector<T>) selectors.get(k);
  }

  private <T> Optional<T> optional(Kind k, Class<T> type) {
    synchronized (this) {
      if (opened.containsKey(k)) return Optional.of(type.cast(opened.get(k)));
    }
    ProviderSelector<T> s = selector(k, type);
    return s.trySelect(config).map(sel -> open(k, () -> s.create(sel.factory(), config)));
  }

  private synchronized <T> T open(Kind k, Supplier<T> make) {
    if (closed) throw new ByopException("byop is closed");
    @SuppressWarnings("unchecked")
    T existing = (T) opened.get(k);
    if (existing != null) return existing;
    T made = make.get();
    opened.put(k, made);
    if (made instanceof AutoCloseable c) closeables.push(c);
    return made;
  }

  /** Closes every provider and service this instance opened, newest first; safe to call twice. */
  @Override
  public void close() {
    List<AutoCloseable> toClose;
    synchronized (this) {
      if (closed) return;
      closed = true;
      toClose = new ArrayList<>(closeables);
      closeables.clear();
      // the preview workers use the builder and deployer: they stop first, whenever those were opened
      if (previews != null) toClose.add(0, previews);
    }
    RuntimeException first = null;
    for (AutoCloseable c : toClose) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("closing {} failed", c.getClass().getName(), masker.safe(e));
        if (first == null) first = new ByopException("closing " + c.getClass().getName() + " failed", e);
      }
    }
    if (first != null) throw first;
  }

  /** Assembles a {@link Byop}. */
  public static final class Builder {
    private ByopConfig config = ByopConfig.defaults();
    private final List<ByopListener> listeners = new ArrayList<>();
    private java.util.concurrent.@Nullable ExecutorService executor;
    private final Map<Kind, ProviderSelector<?>> selectors = new LinkedHashMap<>();

    private Builder() {
      selectors.put(Kind.STORE, new ProviderSelector<>(Kind.STORE.section(), StoreFactory.class));
      selectors.put(Kind.BUILDER, new ProviderSelector<>(Kind.BUILDER.section(), ImageBuilderFactory.class));
      selectors.put(Kind.REGISTRY, new ProviderSelector<>(Kind.REGISTRY.section(), RegistryClientFactory.class));
      selectors.put(Kind.CLOUD, new ProviderSelector<>(Kind.CLOUD.section(), CloudProviderFactory.class));
      selectors.put(Kind.PREVIEW, new ProviderSelector<>(Kind.PREVIEW.section(), PreviewDeployerFactory.class));
    }

    public Builder config(ByopConfig c) {
      this.config = c;
      return this;
    }

    /** Registers a provider factory explicitly; explicit factories are considered before discovered ones. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public Builder register(ProviderFactory<?> factory) {
      Kind k;
      if (factory instanceof StoreFactory) k = Kind.STORE;
      else if (factory instanceof ImageBuilderFactory) k = Kind.BUILDER;
      else if (factory instanceof RegistryClientFactory) k = Kind.REGISTRY;
      else if (factory instanceof CloudProviderFactory) k = Kind.CLOUD;
      else if (factory instanceof PreviewDeployerFactory) k = Kind.PREVIEW;
      else throw new ValidationException("provider factory", factory.getClass().getName(),
          "must implement one of StoreFactory, ImageBuilderFactory, RegistryClientFactory, CloudProviderFactory, "
              + "PreviewDeployerFactory");
      ((ProviderSelector) selectors.get(k)).register(factory);
      return this;
    }

    /** Opts in to {@link java.util.ServiceLoader} discovery of every kind with the given class loader. */
    public Builder discover(ClassLoader loader) {
      selectors.values().forEach(s -> s.discover(loader));
      return this;
    }

    /**
     * Runs byop's build and preview workers on the host application's executor instead of threads of byop's own (as
     * jib's {@code Containerizer.setExecutorService}). It must run {@code 2 × orchestrator.workers} long-running
     * tasks at once (a cached or virtual-thread executor does). {@link Byop#close()} stops and waits for byop's tasks
     * on it and never shuts it down; timers and I/O threads stay byop's own and end with it.
     */
    public Builder executorService(java.util.concurrent.ExecutorService e) {
      this.executor = java.util.Objects.requireNonNull(e, "executorService");
      return this;
    }

    public Builder listener(ByopListener l) {
      listeners.add(l);
      return this;
    }

    /** Opens the store and returns the assembled instance. */
    public Byop build() {
      return new Byop(this);
    }
  }
}
