package dev.byop.docker;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Where a Docker Engine listens: a Unix socket ({@code unix:///var/run/docker.sock}) or plain TCP
 * ({@code tcp://host:port}, no TLS).
 *
 * @param uri the normalized endpoint URI
 */
public record DockerEndpoint(URI uri) {
  /** The engine's default socket. */
  public static final String DEFAULT_HOST = "unix:///var/run/docker.sock";

  public DockerEndpoint {
    String scheme = uri.getScheme();
    if (!"unix".equals(scheme) && !"tcp".equals(scheme)) {
      throw new IllegalArgumentException(
          "docker host '" + uri + "' is not supported: use unix:///path/to/docker.sock or tcp://host:port");
    }
    if ("unix".equals(scheme) && (uri.getPath() == null || uri.getPath().isEmpty())) {
      throw new IllegalArgumentException("docker host '" + uri + "' has no socket path");
    }
    if ("tcp".equals(scheme) && (uri.getHost() == null || uri.getPort() < 0)) {
      throw new IllegalArgumentException("docker host '" + uri + "' needs a host and a port (tcp://host:port)");
    }
  }

  /** Parses a {@code DOCKER_HOST} style value. */
  public static DockerEndpoint parse(String host) {
    try {
      return new DockerEndpoint(new URI(host.trim()));
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("docker host '" + host + "' is not a URI: " + e.getMessage(), e);
    }
  }

  /** A Unix socket endpoint for a path. */
  public static DockerEndpoint unixSocket(Path socket) {
    return new DockerEndpoint(URI.create("unix://" + socket.toAbsolutePath()));
  }

  /**
   * The engine the Docker CLI would use from this process's environment: {@code DOCKER_HOST}, the current context,
   * the rootless socket, the default socket ({@link DockerDiscovery#discover()} says which and why).
   */
  public static DockerEndpoint fromEnvironment() {
    return DockerDiscovery.discover().endpoint();
  }

  /** {@code DOCKER_HOST} from the given environment, else the default socket (no contexts; see {@link DockerDiscovery}). */
  public static DockerEndpoint fromEnvironment(Map<String, String> env) {
    String host = env.get("DOCKER_HOST");
    DockerEndpoint ep = parse(host == null || host.isBlank() ? DEFAULT_HOST : host);
    String tls = env.getOrDefault("DOCKER_TLS_VERIFY", "");
    if (ep.isTcp() && !tls.isEmpty() && !"0".equals(tls) && !"false".equals(tls.toLowerCase(Locale.ROOT))) {
      throw new IllegalArgumentException(
          "docker host '" + ep.uri + "' with DOCKER_TLS_VERIFY is not supported by this client: use a Unix socket");
    }
    return ep;
  }

  /** True for {@code tcp://}. */
  public boolean isTcp() {
    return "tcp".equals(uri.getScheme());
  }

  /** The socket path of a {@code unix://} endpoint. */
  public Path socketPath() {
    if (isTcp()) {
      throw new IllegalStateException(uri + " is not a Unix socket");
    }
    return Path.of(uri.getPath());
  }

  /** The value for the HTTP Host header. */
  String hostHeader() {
    return isTcp() ? uri.getHost() + ":" + uri.getPort() : "docker";
  }

  /** Opens a blocking connection; a missing socket file gives a message naming it. */
  SocketChannel open() throws IOException {
    if (isTcp()) {
      SocketChannel ch = SocketChannel.open(new InetSocketAddress(uri.getHost(), uri.getPort()));
      ch.socket().setTcpNoDelay(true);
      return ch;
    }
    Path p = socketPath();
    if (!Files.exists(p)) {
      throw new java.nio.file.NoSuchFileException(p.toString(), null, "Docker socket does not exist");
    }
    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      ch.connect(UnixDomainSocketAddress.of(p));
    } catch (IOException e) {
      ch.close();
      throw e;
    }
    return ch;
  }

  @Override
  public String toString() {
    return uri.toString();
  }
}
