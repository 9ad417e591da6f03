/**
 * A native Java BuildKit client and source fetching: {@link dev.byop.buildkit.BuildKitClient} speaks BuildKit's gRPC
 * API through Docker's {@code /grpc} endpoint (default) or to a standalone buildkitd ({@code unix://},
 * {@code tcp://} with TLS) and serves the build session itself (file sync with {@code .dockerignore}, registry
 * credentials, secrets, health); {@link dev.byop.buildkit.BuildKitImageBuilder} is the core
 * {@link dev.byop.core.spi.ImageBuilder} on top of it, found through {@code ServiceLoader} by
 * {@link dev.byop.buildkit.BuildKitImageBuilderFactory} (id {@code buildkit}).
 */
@NullMarked
package dev.byop.buildkit;

import org.jspecify.annotations.NullMarked;
