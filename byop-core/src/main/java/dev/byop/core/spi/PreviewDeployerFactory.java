package dev.byop.core.spi;

/** Makes a {@link PreviewDeployer}; configuration section {@code preview}. */
public interface PreviewDeployerFactory extends ProviderFactory<PreviewDeployer> {}
