package dev.byop.core.spi;

/** Makes the {@link Store}; configuration section {@code store}. */
public interface StoreFactory extends ProviderFactory<Store> {}
