package dev.byop.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Finds the Docker Engine as the Docker CLI does, so byop talks to the engine {@code docker} talks to without any
 * configuration: {@code DOCKER_HOST}; else the context {@code DOCKER_CONTEXT} names; else the config's
 * {@code currentContext} ({@code $DOCKER_CONFIG/config.json}, default {@code ~/.docker}); a context's endpoint is
 * read from the CLI's context store ({@code contexts/meta/<sha256 of the name>/meta.json}, its TLS files from
 * {@code contexts/tls/<sha256>/docker/}). Without a context, the
 * rootless engine's socket ({@code $XDG_RUNTIME_DIR/docker.sock}) when it exists, then the default socket.
 *
 * <p>The CLI's own rules, reimplemented because no Java library reads the context store; a differential test keeps
 * them equal to what {@code docker context show} and {@code docker context inspect} answer.
 */
public final class DockerDiscovery {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The CLI's name for "no context: DOCKER_HOST or the default socket". */
  public static final String DEFAULT_CONTEXT = "default";
  /** The CLI's rule for context names. */
  private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$");

  private DockerDiscovery() {}

  /**
   * The endpoint found and why.
   *
   * @param endpoint where the engine listens
   * @param context the CLI context it came from ({@code default} when none)
   * @param source how it was found, for reports: {@code DOCKER_HOST}, {@code DOCKER_CONTEXT=ci},
   *     {@code currentContext=ci in /home/u/.docker/config.json}, {@code rootless socket}, {@code default socket}
   */
  public record Found(DockerEndpoint endpoint, String context, String source) {
    @Override
    public String toString() {
      return endpoint + " (" + source + ")";
    }
  }

  /** As the CLI finds it from this process's environment and home directory. */
  public static Found discover() {
    return discover(System.getenv(), Path.of(System.getProperty("user.home")));
  }

  /**
   * As the CLI finds it from {@code env} and {@code home}.
   *
   * @throws IllegalArgumentException naming the variable, file or context when what they say cannot be used (a
   *     context that does not exist, a config that is not JSON, an endpoint of an unsupported kind)
   */
  public static Found discover(Map<String, String> env, Path home) {
    String host = env.get("DOCKER_HOST");
    if (host != null && !host.isBlank()) {
      return new Found(DockerEndpoint.fromEnvironment(env), DEFAULT_CONTEXT, "DOCKER_HOST");
    }
    Path configDir = configDir(env, home);
    String named = env.get("DOCKER_CONTEXT");
    if (named != null && !named.isBlank()) {
      return fromContext(named.trim(), configDir, "DOCKER_CONTEXT=" + named.trim(), env, home);
    }
    Path config = configDir.resolve("config.json");
    String current = currentContext(config);
    if (current != null) {
      return fromContext(current, configDir, "currentContext=" + current + " in " + config, env, home);
    }
    return fallback(env);
  }

  private static Found fromContext(String name, Path configDir, String source, Map<String, String> env, Path home) {
    if (name.equals(DEFAULT_CONTEXT)) {
      Found f = fallback(env);
      return new Found(f.endpoint(), DEFAULT_CONTEXT, source + ", " + f.source());
    }
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("docker context name '" + name + "' (" + source + ") is invalid: names match "
          + NAME.pattern() + ", as the CLI requires");
    }
    Path meta = configDir.resolve("contexts").resolve("meta").resolve(sha256(name)).resolve("meta.json");
    if (!Files.isRegularFile(meta)) {
      throw new IllegalArgumentException("docker context '" + name + "' (" + source + ") does not exist: no " + meta);
    }
    JsonNode root = readJson(meta);
    String host = root.path("Endpoints").path("docker").path("Host").asText("");
    if (host.isEmpty()) {
      throw new IllegalArgumentException("docker context '" + name + "' has no docker endpoint host in " + meta);
    }
    try {
      DockerEndpoint ep = DockerEndpoint.parse(host);
      // the context store keeps a context's TLS material beside its metadata, keyed the same way
      Path tls = configDir.resolve("contexts").resolve("tls").resolve(sha256(name)).resolve("docker");
      if (ep.isTcp() && Files.isDirectory(tls)) {
        if (root.path("Endpoints").path("docker").path("SkipTLSVerify").asBoolean(false)) {
          throw new IllegalArgumentException("docker context '" + name + "' skips verifying the engine's certificate;"
              + " byop always verifies it: recreate the context with its CA (docker context create --docker ca=…)");
        }
        ep = ep.withTls(tls);
      }
      return new Found(ep, name, source);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("docker context '" + name + "' (" + meta + "): " + e.getMessage(), e);
    }
  }

  /** No context: the rootless engine's socket when it exists, else the default socket. */
  private static Found fallback(Map<String, String> env) {
    String runtime = env.get("XDG_RUNTIME_DIR");
    if (runtime != null && !runtime.isBlank()) {
      Path rootless = Path.of(runtime, "docker.sock");
      if (Files.exists(rootless)) return new Found(DockerEndpoint.unixSocket(rootless), DEFAULT_CONTEXT, "rootless socket");
    }
    return new Found(DockerEndpoint.parse(DockerEndpoint.DEFAULT_HOST), DEFAULT_CONTEXT, "default socket");
  }

  private static Path configDir(Map<String, String> env, Path home) {
    String dir = env.get("DOCKER_CONFIG");
    return dir != null && !dir.isBlank() ? Path.of(dir) : home.resolve(".docker");
  }

  private static @Nullable String currentContext(Path config) {
    if (!Files.isRegularFile(config)) return null;
    String current = readJson(config).path("currentContext").asText("");
    return current.isBlank() ? null : current;
  }

  private static JsonNode readJson(Path file) {
    try {
      return JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalArgumentException(file + " is not readable JSON: " + e.getMessage(), e);
    }
  }

  /** The context store keys a context's directory by the SHA-256 of its name. */
  static String sha256(String name) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always present", e);
    }
  }
}
