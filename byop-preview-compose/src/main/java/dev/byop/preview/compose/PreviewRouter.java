package dev.byop.preview.compose;

import dev.byop.core.spi.LogSink;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Routes a preview's host name to its entry service. A deployer calls {@link #ensureReady} once, {@link #prepare} on
 * the compose file before {@code up}, {@link #activate} once the project runs, and {@link #remove} on tear-down.
 * Implementations: {@link TraefikRouter} (labels plus a byop-managed Traefik container; the default),
 * {@link CaddyRouter} (routes through Caddy's admin API) and {@link PlainRouter} (no router, a published port).
 */
public interface PreviewRouter extends AutoCloseable {
  /** {@code traefik}, {@code caddy} or {@code plain}. */
  String id();

  /**
   * Makes sure the router runs and can take routes; throws {@link dev.byop.core.PreviewException} saying what is
   * missing and how to fix it.
   */
  void ensureReady(LogSink log);

  /** The compose file with what this router needs added: labels, a published port, a shared network. */
  ComposeFile prepare(ComposeFile file, Route route);

  /**
   * Makes the route live once the project runs.
   *
   * @param publishedPort the 127.0.0.1 port the entry service's container port is published on, or null when
   *     {@link #prepare} published none
   */
  RouteEndpoint activate(Route route, @Nullable Integer publishedPort, LogSink log);

  /** Where to probe a route that {@link #activate} made earlier, from the preview's id, host name and URL. */
  RouteEndpoint endpoint(String previewId, String hostname, String url);

  /** Removes the preview's route; no error when there is none. */
  void remove(String previewId, LogSink log);

  /** The ids of previews this router holds routes for (for the orphan sweep); empty when routes live in labels. */
  Set<String> routedPreviewIds();

  /** Whether {@link #prepare} publishes the entry port (so the deployer reads it back after {@code up}). */
  boolean needsPublishedPort();

  @Override
  default void close() { }
}
