/**
 * What every preview host shares: a typed Docker Compose model written with Jackson YAML
 * ({@link dev.byop.preview.compose.ComposeFile}), the router SPI ({@link dev.byop.preview.compose.PreviewRouter}) with
 * its Traefik, Caddy and plain implementations, and the readiness probe. It is a module of its own, not part of
 * byop-core (whose public API carries no third-party type) nor of a deployer module, so the local and the SSH
 * deployer use the same model without one depending on the other. Labels and host names stay in byop-core
 * ({@link dev.byop.core.ByopLabels}, {@link dev.byop.core.PreviewHostnames}): builds label images with them too.
 */
@NullMarked
package dev.byop.preview.compose;

import org.jspecify.annotations.NullMarked;
