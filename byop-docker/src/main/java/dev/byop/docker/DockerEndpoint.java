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
import dev.byop.docker.internal.EngineConnection;
import dev.byop.docker.internal.PemFiles;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.jspecify.annotations.Nullable;

/**
 * Where a Docker Engine listens, in the forms {@code DOCKER_HOST} takes: a Unix socket
 * ({@code unix:///var/run/docker.sock}), TCP ({@code tcp://host:port}, with TLS when a certificate directory is given:
 * the engine's certificate is verified against {@code ca.pem} and the host name, {@code cert.pem}/{@code key.pem}
 * are presented), or SSH ({@code ssh://[user@]host[:port]}: as the Docker CLI does, {@code ssh … -- host docker
 * system dial-stdio} carries the connection, so the user's SSH configuration and agent apply).
 *
 * @param uri the normalized endpoint URI
 * @param tls the directory with {@code ca.pem}, {@code cert.pem} and {@code key.pem} for a TLS {@code tcp://}
 *     endpoint, or null for none
 * @param ssh the SSH client command for an {@code ssh://} endpoint, e.g. {@code [ssh]}
 */
public record DockerEndpoint(URI uri, @Nullable Path tls, List<String> ssh) {
  /** The engine's default socket. */
  public static final String DEFAULT_HOST = "unix:///var/run/docker.sock";
  private static final List<String> SSH = List.of("ssh");

  public DockerEndpoint {
    String scheme = uri.getScheme();
    if (!"unix".equals(scheme) && !"tcp".equals(scheme) && !"ssh".equals(scheme)) {
      throw new IllegalArgumentException("docker host '" + uri + "' is not supported: use unix:///path/to/docker.sock,"
          + " tcp://host:port or ssh://[user@]host[:port]");
    }
    if ("unix".equals(scheme) && (uri.getPath() == null || uri.getPath().isEmpty())) {
      throw new IllegalArgumentException("docker host '" + uri + "' has no socket path");
    }
    if ("tcp".equals(scheme) && (uri.getHost() == null || uri.getPort() < 0)) {
      throw new IllegalArgumentException("docker host '" + uri + "' needs a host and a port (tcp://host:port)");
    }
    if ("ssh".equals(scheme)) {
      if (uri.getHost() == null) throw new IllegalArgumentException("docker host '" + uri + "' needs a host");
      if (uri.getRawPath() != null && !uri.getRawPath().isEmpty()) {
        throw new IllegalArgumentException("docker host '" + uri + "' must not have a path (ssh://[user@]host[:port])");
      }
      String user = uri.getRawUserInfo();
      if (user != null && (user.contains(":") || !user.matches("[A-Za-z0-9._-]+"))) {
        throw new IllegalArgumentException("docker host '" + uri + "': the user must be a plain login name, no password");
      }
      if (uri.getHost().startsWith("-")) throw new IllegalArgumentException("docker host '" + uri + "': bad host");
    }
    if (tls != null && !"tcp".equals(scheme)) {
      throw new IllegalArgumentException("docker host '" + uri + "': TLS applies to tcp:// endpoints only");
    }
    ssh = ssh == null || ssh.isEmpty() ? SSH : List.copyOf(ssh);
  }

  public DockerEndpoint(URI uri) {
    this(uri, null, SSH);
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

  /** This TCP endpoint over TLS with the certificates in {@code dir} ({@code ca.pem}, {@code cert.pem}, {@code key.pem}). */
  public DockerEndpoint withTls(Path dir) {
    return new DockerEndpoint(uri, dir, ssh);
  }

  /** This SSH endpoint reached with another SSH client command, e.g. {@code [ssh, -F, /path/config]}. */
  public DockerEndpoint withSshCommand(List<String> command) {
    return new DockerEndpoint(uri, tls, command);
  }

  /**
   * The engine the Docker CLI would use from this process's environment: {@code DOCKER_HOST}, the current context,
   * the rootless socket, the default socket ({@link DockerDiscovery#discover()} says which and why).
   */
  public static DockerEndpoint fromEnvironment() {
    return DockerDiscovery.discover().endpoint();
  }

  /**
   * {@code DOCKER_HOST} from the given environment, else the default socket (no contexts; see
   * {@link DockerDiscovery}); a {@code tcp://} host is TLS when {@code DOCKER_TLS_VERIFY} is set, with the
   * certificates of {@code DOCKER_CERT_PATH} (default {@code ~/.docker}), as the CLI does.
   */
  public static DockerEndpoint fromEnvironment(Map<String, String> env) {
    String host = env.get("DOCKER_HOST");
    DockerEndpoint ep = parse(host == null || host.isBlank() ? DEFAULT_HOST : host);
    String verify = env.getOrDefault("DOCKER_TLS_VERIFY", "");
    boolean tls = !verify.isEmpty() && !"0".equals(verify) && !"false".equals(verify.toLowerCase(Locale.ROOT));
    if (ep.isTcp() && tls) {
      String certs = env.get("DOCKER_CERT_PATH");
      String home = env.getOrDefault("HOME", System.getProperty("user.home"));
      return ep.withTls(certs != null && !certs.isBlank() ? Path.of(certs) : Path.of(home, ".docker"));
    }
    String plainTls = env.getOrDefault("DOCKER_TLS", "");
    if (ep.isTcp() && !plainTls.isEmpty() && !"0".equals(plainTls)) {
      throw new IllegalArgumentException("docker host '" + ep.uri + "' with DOCKER_TLS but without DOCKER_TLS_VERIFY:"
          + " byop always verifies the engine's certificate; set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH");
    }
    return ep;
  }

  /** True for {@code tcp://}, with or without TLS. */
  public boolean isTcp() {
    return "tcp".equals(uri.getScheme());
  }

  /** True for {@code ssh://}. */
  public boolean isSsh() {
    return "ssh".equals(uri.getScheme());
  }

  /** The socket path of a {@code unix://} endpoint. */
  public Path socketPath() {
    if (!"unix".equals(uri.getScheme())) {
      throw new IllegalStateException(uri + " is not a Unix socket");
    }
    return Path.of(uri.getPath());
  }

  /** The value for the HTTP Host header. */
  String hostHeader() {
    return isTcp() ? uri.getHost() + ":" + uri.getPort() : "docker";
  }

  /** The SSH command line that carries an {@code ssh://} connection, as the Docker CLI runs it. */
  List<String> sshArgv() {
    List<String> argv = new ArrayList<>(ssh);
    argv.addAll(List.of("-o", "ConnectTimeout=30", "-T"));
    if (uri.getRawUserInfo() != null) argv.addAll(List.of("-l", uri.getRawUserInfo()));
    if (uri.getPort() > 0) argv.addAll(List.of("-p", Integer.toString(uri.getPort())));
    argv.addAll(List.of("--", uri.getHost(), "docker", "system", "dial-stdio"));
    return argv;
  }

  /** Opens a blocking connection; a missing socket file gives a message naming it. */
  EngineConnection open() throws IOException {
    if (isSsh()) {
      // stderr goes to the log, not into the HTTP stream; an ssh that cannot connect ends and the read sees EOF
      Process p = new ProcessBuilder(sshArgv()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      return EngineConnection.of(p);
    }
    if (isTcp()) {
      if (tls != null) {
        SSLSocket s = (SSLSocket) PemFiles.context(tls).getSocketFactory().createSocket();
        try {
          s.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 30_000);
          SSLParameters params = s.getSSLParameters();
          params.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the host, as the CLI checks
          s.setSSLParameters(params);
          s.setTcpNoDelay(true);
          s.startHandshake();
          return EngineConnection.of(s);
        } catch (IOException e) {
          s.close();
          throw e;
        }
      }
      SocketChannel ch = SocketChannel.open(new InetSocketAddress(uri.getHost(), uri.getPort()));
      ch.socket().setTcpNoDelay(true);
      return EngineConnection.of(ch);
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
    return EngineConnection.of(ch);
  }

  @Override
  public String toString() {
    return uri + (tls != null ? " (TLS, " + tls + ")" : "");
  }
}
