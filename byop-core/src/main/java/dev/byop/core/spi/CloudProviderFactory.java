package dev.byop.core.spi;

/** Makes a {@link CloudProvider}; configuration section {@code cloud}. */
public interface CloudProviderFactory extends ProviderFactory<CloudProvider> {}
