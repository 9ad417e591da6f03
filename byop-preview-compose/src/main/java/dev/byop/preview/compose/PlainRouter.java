package dev.byop.preview.compose;

import dev.byop.core.PreviewException;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.LogSink;
import java.net.URI;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * No router: the entry service's port is published on the bind address (a port the engine chooses) and the URL
 * carries it, for machines that run neither Traefik nor Caddy. The host name is not used for routing.
 */
public final class PlainRouter implements PreviewRouter {
  private final String bindAddress;

  /** @param bindAddress the IPv4 address ports are published on, normally {@code 127.0.0.1} */
  public PlainRouter(String bindAddress) {
    new PortMapping(bindAddress, 0, 80, "tcp");
    this.bindAddress = bindAddress;
  }

  @Override
  public String id() {
    return "plain";
  }

  @Override
  public void ensureReady(PreviewHost host, LogSink log) { }

  @Override
  public ComposeFile prepare(ComposeFile file, Route route) {
    ComposeService entry = file.services().get(route.service());
    if (entry == null) throw new ValidationException("route.service", route.service(), "is not a service of the file");
    return file.withService(route.service(),
        entry.plusPort(new PortMapping(bindAddress, 0, route.containerPort(), "tcp")));
  }

  @Override
  public RouteEndpoint activate(PreviewHost host, Route route, @Nullable Integer publishedPort, LogSink log) {
    if (publishedPort == null) throw new PreviewException("no published port for " + route.service());
    String url = "http://" + bindAddress + ":" + publishedPort + "/";
    return new RouteEndpoint(url, URI.create(url), null);
  }

  @Override
  public RouteEndpoint endpoint(PreviewHost host, String previewId, String hostname, String url) {
    return new RouteEndpoint(url, URI.create(url), null);
  }

  @Override
  public void remove(PreviewHost host, String previewId, LogSink log) { }

  @Override
  public Set<String> routedPreviewIds(PreviewHost host) {
    return Set.of();
  }

  @Override
  public boolean needsPublishedPort() {
    return true;
  }
}
