package dev.byop.preview.local;

import dev.byop.core.spi.JobContext;
import dev.byop.preview.compose.ComposeDeployer;
import java.util.List;
import java.util.Set;

/**
 * Test-only: what {@code PreviewManagerIT} (a file another change owns) still calls by the name of the deployer this
 * module had, on the {@link ComposeDeployer} the factory makes. Delete it once that test uses
 * {@link LocalPreviewDeployerFactory#deployer}.
 */
final class LocalPreviewDeployer {
  private final ComposeDeployer deployer;
  private final LocalHost host;

  LocalPreviewDeployer(LocalPreviewOptions options) {
    this.deployer = LocalPreviewDeployerFactory.deployer(options, null);
    this.host = options.host();
  }

  List<String> sweep(Set<String> knownPreviewIds, JobContext context) {
    return deployer.sweep(knownPreviewIds, context);
  }

  /** The router's routes on the local host. */
  Routes router() {
    return () -> deployer.router().routedPreviewIds(host);
  }

  interface Routes {
    Set<String> routedPreviewIds();
  }
}
