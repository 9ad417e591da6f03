/**
 * What plugins implement: the store, image builder, registry client, cloud provider and preview deployer, each made by
 * a {@link dev.byop.core.spi.ProviderFactory} that byop finds by explicit registration or {@link java.util.ServiceLoader}.
 */
@NullMarked
package dev.byop.core.spi;

import org.jspecify.annotations.NullMarked;
