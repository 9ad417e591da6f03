/**
 * Previews with Docker Compose on any kind of host: the host abstraction ({@link dev.byop.preview.compose.PreviewHost},
 * {@link dev.byop.preview.compose.Placement}) that this machine and SSH hosts implement, the one deployer over it
 * ({@link dev.byop.preview.compose.ComposeDeployer}), a typed Docker Compose model written with Jackson YAML
 * ({@link dev.byop.preview.compose.ComposeFile}), the router SPI ({@link dev.byop.preview.compose.PreviewRouter}) with
 * its Traefik, Caddy and plain implementations, and the readiness probe ({@link dev.byop.preview.compose.HttpProbe}).
 * It is a module of its own, not part of byop-core (whose public API carries no third-party type) nor of a host
 * module, so local and SSH hosts share one deployer without one depending on the other. Labels and host names stay in byop-core
 * ({@link dev.byop.core.ByopLabels}, {@link dev.byop.core.PreviewHostnames}): builds label images with them too.
 */
@NullMarked
package dev.byop.preview.compose;

import org.jspecify.annotations.NullMarked;
