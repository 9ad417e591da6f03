package dev.byop.preview.compose;

import dev.byop.core.spi.LogSink;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Routes a preview's host name to its entry service on a {@link PreviewHost}. The {@link ComposeDeployer} calls
 * {@link #ensureReady} before {@code up}, {@link #prepare} on the compose file, {@link #activate} once the project
 * runs, and {@link #remove} on tear-down. A router keeps no state of its own about hosts: everything it needs goes
 * through the host it is handed (its commands, its files, a stream to a port as the host sees it), so one router
 * instance serves this machine and SSH hosts alike.
 *
 * <p>Implementations: {@link TraefikRouter} (labels plus a byop-managed Traefik container, through the host's docker),
 * {@link CaddyRouter} (routes through Caddy's admin API, reached with {@link PreviewHost#connect}: on an SSH host that
 * is a channel of the SSH connection, no admin port is exposed) and {@link PlainRouter} (no router, a published port).
 */
public interface PreviewRouter {
  /** {@code traefik}, {@code caddy} or {@code plain}. */
  String id();

  /**
   * Makes sure the router runs on {@code host} and can take routes; throws {@link dev.byop.core.PreviewException}
   * saying what is missing and how to fix it.
   */
  void ensureReady(PreviewHost host, LogSink log);

  /** The compose file with what this router needs added: labels, a published port, a route network. */
  ComposeFile prepare(ComposeFile file, Route route);

  /** Whether {@link #prepare} publishes the entry port (so the deployer reads it back after {@code up}). */
  boolean needsPublishedPort();

  /**
   * Makes the route live once the project runs on {@code host}.
   *
   * @param publishedPort the port the entry service's container port is published on, or null when {@link #prepare}
   *     published none
   */
  RouteEndpoint activate(PreviewHost host, Route route, @Nullable Integer publishedPort, LogSink log);

  /** Where to probe a route that {@link #activate} made earlier, from the preview's id, host name and URL. */
  RouteEndpoint endpoint(PreviewHost host, String previewId, String hostname, String url);

  /** Removes the preview's route from {@code host}; no error when there is none. */
  void remove(PreviewHost host, String previewId, LogSink log);

  /**
   * The ids of previews this router holds routes for on {@code host} (for the orphan sweep); empty when routes live
   * in the containers' labels and go with them.
   */
  Set<String> routedPreviewIds(PreviewHost host);
}
