package dev.byop.spring.boot;

import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.ProviderException;
import dev.byop.core.spi.ImageBuilder.BuilderCapabilities;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.health.CompositeHealthContributor;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthContributor;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.NamedContributor;

/**
 * The {@code byop} health contributor: one indicator per provider kind ({@code store}, {@code builder},
 * {@code registry}, {@code preview}), each naming the provider in use, or saying what is wrong (the failure, or every
 * candidate and why it was rejected). A kind that is optional and not configured (registry) is {@code UNKNOWN}.
 */
public final class ByopHealth implements CompositeHealthContributor {
  private final Map<String, HealthIndicator> indicators = new LinkedHashMap<>();

  public ByopHealth(Byop byop) {
    indicators.put("store", () -> check(byop, Byop.Kind.STORE, b -> {
      long pending = b.store().countBuildJobs(BuildStatus.PENDING).orElse(-1);
      return pending < 0 ? Map.of() : Map.of("pendingBuilds", pending);
    }));
    indicators.put("builder", () -> check(byop, Byop.Kind.BUILDER, b -> {
      BuilderCapabilities c = b.imageBuilder().capabilities();
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("name", c.name());
      if (c.version() != null) d.put("version", c.version());
      d.put("platforms", c.platforms());
      return d;
    }));
    indicators.put("registry", () -> {
      if (byop.registryClient().isEmpty()) {
        return Health.unknown().withDetail("reason", "no registry client configured or applicable; images stay in "
            + "the builder's engine").withDetails(rejections(byop, Byop.Kind.REGISTRY)).build();
      }
      return check(byop, Byop.Kind.REGISTRY, b -> Map.of());
    });
    indicators.put("preview", () -> check(byop, Byop.Kind.PREVIEW, b -> {
      b.previewDeployer();
      return Map.of();
    }));
  }

  private static Health check(Byop byop, Byop.Kind kind, Function<Byop, Map<String, ?>> probe) {
    try {
      Map<String, ?> details = probe.apply(byop);
      Health.Builder h = Health.up();
      chosen(byop, kind).ifPresent(id -> h.withDetail("provider", id));
      return h.withDetails(details).build();
    } catch (ProviderException e) {
      return Health.down().withDetail("error", String.valueOf(e.getMessage()))
          .withDetails(rejections(e.rejections())).build();
    } catch (RuntimeException e) {
      Health.Builder h = Health.down().withDetail("error", e.getClass().getSimpleName() + ": " + e.getMessage());
      chosen(byop, kind).ifPresent(id -> h.withDetail("provider", id));
      return h.build();
    }
  }

  private static Optional<String> chosen(Byop byop, Byop.Kind kind) {
    return byop.describeProviders().stream().filter(c -> c.kind() == kind).findFirst()
        .map(c -> c.id());
  }

  private static Map<String, Object> rejections(Byop byop, Byop.Kind kind) {
    return byop.describeProviders().stream().filter(c -> c.kind() == kind).findFirst()
        .map(c -> rejections(c.passedOver())).orElse(Map.of());
  }

  private static Map<String, Object> rejections(List<ProviderException.Rejection> rejected) {
    if (rejected.isEmpty()) return Map.of();
    return Map.of("rejected", rejected.stream().collect(Collectors.toMap(ProviderException.Rejection::id,
        ProviderException.Rejection::reason, (a, b) -> a + "; " + b, LinkedHashMap::new)));
  }

  @Override
  public @Nullable HealthContributor getContributor(String name) {
    return indicators.get(name);
  }

  @Override
  public Iterator<NamedContributor<HealthContributor>> iterator() {
    return indicators.entrySet().stream()
        .map(e -> NamedContributor.<HealthContributor>of(e.getKey(), e.getValue())).iterator();
  }
}
