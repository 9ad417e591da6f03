package dev.byop.core.spi;

/** Makes the {@link ImageBuilder}; configuration section {@code builder}. */
public interface ImageBuilderFactory extends ProviderFactory<ImageBuilder> {}
