package dev.byop.core;

import dev.byop.core.ProviderException.Rejection;
import dev.byop.core.spi.Applicability;
import dev.byop.core.spi.ProviderContext;
import dev.byop.core.spi.ProviderFactory;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.jspecify.annotations.Nullable;

/**
 * Finds the provider of one kind: explicitly registered factories first, then (when the host opts in) those
 * {@link ServiceLoader} finds with the host's class loader. A factory whose id was already seen is dropped. The
 * configuration's {@code provider} id wins; otherwise the applicable factory with the highest priority, explicit ones
 * before discovered ones. When nothing fits, one {@link ProviderException} lists every candidate and why.
 *
 * @param <T> what the factories make
 */
public final class ProviderSelector<T> {
  private final String kind;
  private final Class<? extends ProviderFactory<T>> type;
  private final List<ProviderFactory<T>> explicit = new ArrayList<>();
  private @Nullable ClassLoader discoveryLoader;
  private ProviderContext.Providers providers = ProviderContext.Providers.NONE;

  public ProviderSelector(String kind, Class<? extends ProviderFactory<T>> type) {
    this.kind = kind;
    this.type = type;
  }

  /** The section name of this kind, e.g. {@code builder}. */
  public String kind() {
    return kind;
  }

  public ProviderSelector<T> register(ProviderFactory<T> factory) {
    explicit.add(factory);
    return this;
  }

  /** The other providers that factories of this kind may use (see {@link ProviderContext#providers()}). */
  public ProviderSelector<T> providers(ProviderContext.Providers lookup) {
    this.providers = lookup;
    return this;
  }

  /** Opts in to {@link ServiceLoader} discovery with the given class loader. */
  public ProviderSelector<T> discover(ClassLoader loader) {
    this.discoveryLoader = loader;
    return this;
  }

  /**
   * A chosen factory and the candidates passed over, for showing what was found.
   *
   * @param detail what the chosen factory said it will use ({@link Applicability#reason()}), e.g. the Docker
   *     endpoint and how it was found
   */
  public record Selection<T>(ProviderFactory<T> factory, List<Rejection> passedOver, String detail) {}

  /** Every candidate in order of consideration, without duplicates by id, with the reason a duplicate was dropped. */
  public List<ProviderFactory<T>> candidates(List<Rejection> dropped) {
    Map<String, ProviderFactory<T>> byId = new LinkedHashMap<>();
    List<ProviderFactory<T>> ordered = new ArrayList<>(explicit);
    ordered.sort(Comparator.comparingInt((ProviderFactory<T> f) -> f.priority()).reversed());
    List<ProviderFactory<T>> discovered = new ArrayList<>();
    if (discoveryLoader != null) {
      try {
        for (ProviderFactory<T> f : ServiceLoader.load(type, discoveryLoader)) discovered.add(f);
      } catch (ServiceConfigurationError e) {
        throw new ProviderException(kind, "service discovery failed: " + e.getMessage(), e);
      }
      discovered.sort(Comparator.comparingInt((ProviderFactory<T> f) -> f.priority()).reversed());
    }
    ordered.addAll(discovered);
    for (ProviderFactory<T> f : ordered) {
      ProviderFactory<T> first = byId.putIfAbsent(f.id(), f);
      if (first != null && first != f) {
        dropped.add(new Rejection(f.id() + " (" + f.getClass().getName() + ")",
            "duplicate id; " + first.getClass().getName() + " was registered first"));
      }
    }
    return new ArrayList<>(byId.values());
  }

  /** Selects a factory for the configuration, or throws {@link ProviderException} listing every rejection. */
  public Selection<T> select(ByopConfig config) {
    Outcome<T> o = evaluate(config);
    if (o.chosen() == null) throw new ProviderException(kind, "no provider fits", o.rejected());
    return new Selection<>(o.chosen(), o.rejected(), o.detail());
  }

  /** Like {@link #select} but empty when the kind is optional and nothing fits. */
  public Optional<Selection<T>> trySelect(ByopConfig config) {
    Outcome<T> o = evaluate(config);
    return o.chosen() == null ? Optional.empty() : Optional.of(new Selection<>(o.chosen(), o.rejected(), o.detail()));
  }

  /** Why no factory fits the configuration, one entry per candidate; empty when one fits. */
  public List<Rejection> rejections(ByopConfig config) {
    Outcome<T> o = evaluate(config);
    return o.chosen() == null ? o.rejected() : List.of();
  }

  /** The first fitting factory (or none) and the candidates passed over before it (or all of them). */
  private record Outcome<T>(@Nullable ProviderFactory<T> chosen, List<Rejection> rejected, String detail) {}

  private Outcome<T> evaluate(ByopConfig config) {
    List<Rejection> rejected = new ArrayList<>();
    List<ProviderFactory<T>> candidates = candidates(rejected);
    Optional<String> wanted = config.providerId(kind);
    ProviderContext ctx = context(config);
    for (ProviderFactory<T> f : candidates) {
      if (wanted.isPresent() && !wanted.get().equals(f.id())) {
        rejected.add(new Rejection(f.id(), "configuration asks for provider '" + wanted.get() + "'"));
        continue;
      }
      Applicability a = applicability(f, ctx);
      if (a.applicable()) return new Outcome<>(f, rejected, a.reason());
      rejected.add(new Rejection(f.id(), a.reason()));
    }
    if (wanted.isPresent() && candidates.stream().noneMatch(f -> f.id().equals(wanted.get()))) {
      rejected.add(new Rejection(wanted.get(), "configured but no such provider is registered or discovered"));
    }
    return new Outcome<>(null, rejected, "");
  }

  private Applicability applicability(ProviderFactory<T> f, ProviderContext ctx) {
    try {
      return f.applicability(ctx);
    } catch (RuntimeException e) {
      return Applicability.no("applicability check failed: " + e);
    }
  }

  /** The context a factory of this kind sees. */
  public ProviderContext context(ByopConfig config) {
    return new ProviderContext(config, config.section(kind), config.dataDir(), providers);
  }

  /** Selects and creates the provider; a failing {@code create} becomes a {@link ProviderException}. */
  public T create(ByopConfig config) {
    Selection<T> s = select(config);
    return create(s.factory(), config);
  }

  /** Creates the provider with the given factory. */
  public T create(ProviderFactory<T> factory, ByopConfig config) {
    try {
      return factory.create(context(config));
    } catch (ByopException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new ProviderException(kind, "provider '" + factory.id() + "' failed to start: " + e.getMessage(), e);
    }
  }
}
