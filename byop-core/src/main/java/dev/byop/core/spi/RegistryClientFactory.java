package dev.byop.core.spi;

/** Makes the {@link RegistryClient}; configuration section {@code registry}. */
public interface RegistryClientFactory extends ProviderFactory<RegistryClient> {}
