package dev.byop.testkit;

import dev.byop.core.BuildStatus;
import dev.byop.core.Byop;
import dev.byop.core.PreviewStatus;
import dev.byop.core.spi.ImageBuilder;
import dev.byop.core.spi.ImageBuilderFactory;
import dev.byop.core.spi.PreviewDeployer;
import dev.byop.core.spi.PreviewDeployerFactory;
import dev.byop.core.spi.ProviderContext;
import dev.byop.core.spi.RegistryClient;
import dev.byop.core.spi.RegistryClientFactory;
import java.nio.file.Path;

/**
 * The scripted builder, registry and deployer of one test, and shortcuts that script them by the status a build or
 * preview is in when the step runs: {@code failAt(BuildStatus.PUSHING, "…")} makes the next push fail.
 */
public final class ByopFakes {
  /** The provider id the fakes are registered under (builder, registry, preview). */
  public static final String ID = "scripted";

  private final ScriptedBuilder builder;
  private final ScriptedRegistry registry = new ScriptedRegistry();
  private final ScriptedDeployer deployer = new ScriptedDeployer();

  ByopFakes(Path checkoutDir) {
    this.builder = new ScriptedBuilder(checkoutDir);
  }

  public ScriptedBuilder builder() {
    return builder;
  }

  public ScriptedRegistry registry() {
    return registry;
  }

  public ScriptedDeployer deployer() {
    return deployer;
  }

  /** The step that runs while a build job is in {@code status}: FETCHING, BUILDING or PUSHING. */
  public ScriptedStep step(BuildStatus status) {
    return switch (status) {
      case FETCHING -> builder.fetch();
      case BUILDING -> builder.build();
      case PUSHING -> registry.push();
      default -> throw new IllegalArgumentException("no step runs while a build is " + status
          + "; use FETCHING, BUILDING or PUSHING");
    };
  }

  /** The step that runs while a preview is in {@code status}: BUILDING (the image build) or DEPLOYING. */
  public ScriptedStep step(PreviewStatus status) {
    return switch (status) {
      case BUILDING -> builder.build();
      case DEPLOYING -> deployer.deploy();
      default -> throw new IllegalArgumentException("no step runs while a preview is " + status
          + "; use BUILDING or DEPLOYING");
    };
  }

  /** The next build fails while in {@code status} with {@code message}. */
  public ByopFakes failAt(BuildStatus status, String message) {
    step(status).then(Outcome.fail(message));
    return this;
  }

  /** The next preview deployment fails while in {@code status} with {@code message}. */
  public ByopFakes failAt(PreviewStatus status, String message) {
    step(status).then(Outcome.fail(message));
    return this;
  }

  /** Registers the three fakes with a builder under id {@link #ID}. */
  public Byop.Builder registerWith(Byop.Builder b) {
    return b.register(new ImageBuilderFactory() {
      @Override
      public String id() {
        return ID;
      }

      @Override
      public ImageBuilder create(ProviderContext context) {
        return builder;
      }
    }).register(new RegistryClientFactory() {
      @Override
      public String id() {
        return ID;
      }

      @Override
      public RegistryClient create(ProviderContext context) {
        return registry;
      }
    }).register(new PreviewDeployerFactory() {
      @Override
      public String id() {
        return ID;
      }

      @Override
      public PreviewDeployer create(ProviderContext context) {
        return deployer;
      }
    });
  }
}
