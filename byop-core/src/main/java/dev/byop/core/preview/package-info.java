/**
 * The pieces every preview deployer shares: a typed Docker Compose model written with Jackson YAML
 * ({@link dev.byop.core.preview.ComposeFile}), the labels that mark resources as byop's, preview host names, and the
 * router SPI ({@link dev.byop.core.preview.PreviewRouter}) with its Traefik, Caddy and plain implementations. They
 * live in byop-core, not in a deployer module, so the local and the SSH deployer use the same model without one
 * depending on the other (and without the local deployer's ServiceLoader entry leaking into SSH users' discovery).
 */
@NullMarked
package dev.byop.core.preview;

import org.jspecify.annotations.NullMarked;
