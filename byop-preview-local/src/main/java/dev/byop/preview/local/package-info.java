/**
 * Local preview environments: this machine as a preview host ({@link dev.byop.preview.local.LocalHost}: processes,
 * files, sockets) and as the one place previews go ({@link dev.byop.preview.local.LocalPlacement}: images already in
 * the engine, else pulled), under {@code dev.byop.preview.compose}'s one
 * {@link dev.byop.preview.compose.ComposeDeployer}, which runs each preview as a Docker Compose project and routes a
 * host name under the preview domain to it (Traefik by default, Caddy, or plain published ports). It is found by
 * {@link java.util.ServiceLoader} as provider {@code local}; options are described in
 * {@link dev.byop.preview.local.LocalPreviewOptions}.
 *
 * <pre>{@code
 * try (Byop byop = Byop.builder().config(ByopConfig.load(Path.of("byop.yml")))
 *     .discover(Thread.currentThread().getContextClassLoader()).build()) {
 *   Preview p = byop.previews().createPreview("shop");        // BUILDING, returns at once
 *   p = byop.previews().await(p.id(), Duration.ofMinutes(5)); // RUNNING at http://shop-k3x9q2ab.byop.local/
 * }
 * }</pre>
 */
@NullMarked
package dev.byop.preview.local;

import org.jspecify.annotations.NullMarked;
