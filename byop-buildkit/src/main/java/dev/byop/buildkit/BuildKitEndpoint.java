package dev.byop.buildkit;

import dev.byop.core.ValidationException;
import dev.byop.docker.DockerEndpoint;
import java.net.URI;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * Where BuildKit listens: inside a Docker Engine ({@code docker}, over the Engine's {@code /grpc} endpoint), or a
 * standalone buildkitd on {@code unix:///run/buildkit/buildkitd.sock} or {@code tcp://host:port} with optional TLS.
 *
 * @param kind which transport
 * @param engine the Docker Engine for {@link Kind#DOCKER}
 * @param uri the buildkitd address for {@link Kind#UNIX} and {@link Kind#TCP}
 * @param tls client TLS files for {@link Kind#TCP}, or null for plaintext
 */
public record BuildKitEndpoint(Kind kind, @Nullable DockerEndpoint engine, @Nullable URI uri, @Nullable Tls tls) {

  /** The transport to the daemon. */
  public enum Kind { DOCKER, UNIX, TCP }

  /**
   * TLS material for a TCP buildkitd (PEM files; the key in PKCS#8).
   *
   * @param caCert CA that signed the daemon's certificate, or null for the JVM's trust store
   * @param clientCert client certificate, or null
   * @param clientKey client key, or null
   * @param serverName the name to verify in the daemon's certificate, or null for the host
   */
  public record Tls(@Nullable Path caCert, @Nullable Path clientCert, @Nullable Path clientKey,
      @Nullable String serverName) {
    public Tls {
      if ((clientCert == null) != (clientKey == null)) {
        throw new ValidationException("builder.tls", null, "clientCert and clientKey must be given together");
      }
    }
  }

  /** The Docker Engine of {@code DOCKER_HOST} (default {@code unix:///var/run/docker.sock}). */
  public static BuildKitEndpoint docker() {
    return new BuildKitEndpoint(Kind.DOCKER, DockerEndpoint.fromEnvironment(), null, null);
  }

  /** A given Docker Engine. */
  public static BuildKitEndpoint docker(DockerEndpoint engine) {
    return new BuildKitEndpoint(Kind.DOCKER, engine, null, null);
  }

  /**
   * Parses {@code docker}, {@code docker+unix:///path.sock}, {@code unix:///path.sock} or {@code tcp://host:port}.
   */
  public static BuildKitEndpoint parse(String address, @Nullable Tls tls) {
    String a = address.trim();
    if (a.equals("docker")) {
      return docker();
    }
    if (a.startsWith("docker+")) {
      try {
        return docker(DockerEndpoint.parse(a.substring("docker+".length())));
      } catch (IllegalArgumentException e) {
        throw new ValidationException("builder.endpoint", address, e.getMessage());
      }
    }
    URI u;
    try {
      u = new URI(a);
    } catch (java.net.URISyntaxException e) {
      throw new ValidationException("builder.endpoint", address, "is not a URI");
    }
    if ("unix".equals(u.getScheme()) && u.getPath() != null && !u.getPath().isEmpty()) {
      if (tls != null) {
        throw new ValidationException("builder.endpoint", address, "TLS applies to tcp:// endpoints only");
      }
      return new BuildKitEndpoint(Kind.UNIX, null, u, null);
    }
    if ("tcp".equals(u.getScheme()) && u.getHost() != null && u.getPort() > 0) {
      return new BuildKitEndpoint(Kind.TCP, null, u, tls);
    }
    throw new ValidationException("builder.endpoint", address,
        "must be 'docker', 'docker+unix:///path', 'unix:///path/buildkitd.sock' or 'tcp://host:port'");
  }

  @Override
  public String toString() {
    return switch (kind) {
      case DOCKER -> "docker+" + engine;
      case UNIX, TCP -> String.valueOf(uri) + (tls != null ? " (TLS)" : "");
    };
  }
}
