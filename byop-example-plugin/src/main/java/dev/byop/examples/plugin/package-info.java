/**
 * An example cloud provider plugin: a fixed list of hosts with a number of preview slots each. It shows what a
 * third-party provider jar contains: a {@link dev.byop.core.spi.CloudProviderFactory} listed in
 * {@code META-INF/services}, depending on byop-core only as {@code provided}.
 */
@NullMarked
package dev.byop.examples.plugin;

import org.jspecify.annotations.NullMarked;
