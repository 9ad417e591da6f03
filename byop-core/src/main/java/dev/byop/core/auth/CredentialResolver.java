package dev.byop.core.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.byop.core.ConfigException;
import dev.byop.core.Credentials;
import dev.byop.core.Secret;
import dev.byop.core.Settings;
import dev.byop.core.ValidationException;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the credentials for a registry host: explicitly configured ones first, then the Docker CLI's config file
 * ({@code $DOCKER_CONFIG/config.json} or {@code ~/.docker/config.json}): a per-host credential helper
 * ({@code credHelpers}), the default store ({@code credsStore}), then the file's own {@code auths} entries.
 * Docker Hub ({@code docker.io}) is looked up under Docker's key {@value #DOCKER_HUB_KEY}.
 *
 * <pre>{@code
 * CredentialResolver resolver = CredentialResolver.builder()
 *     .credentials("127.0.0.1:5000", Credentials.basic("ci", password))
 *     .build();
 * Optional<Credentials> c = resolver.resolve("127.0.0.1:5000");
 * }</pre>
 *
 * <p>Helpers run as {@code docker-credential-<name> get} (an argument list, the server address on stdin). Thread-safe;
 * nothing is cached, so rotated credentials are picked up.
 */
public final class CredentialResolver {
  /** The key under which the Docker CLI stores Docker Hub credentials. */
  public static final String DOCKER_HUB_KEY = "https://index.docker.io/v1/";

  private static final Logger LOG = LoggerFactory.getLogger(CredentialResolver.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern HELPER_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
  private static final int MAX_HELPER_OUTPUT = 1 << 20;

  private final Map<String, Credentials> explicit;
  private final @Nullable Path dockerConfig;
  private final List<Path> helperPath;
  private final Duration helperTimeout;

  private CredentialResolver(Builder b) {
    this.explicit = Map.copyOf(b.explicit);
    this.dockerConfig = b.dockerConfig;
    this.helperPath = List.copyOf(b.helperPath);
    this.helperTimeout = b.helperTimeout;
  }

  /** Docker's config file from the process environment, no explicit credentials. */
  public static CredentialResolver defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder(System.getenv());
  }

  /** A builder that reads {@code DOCKER_CONFIG}, {@code HOME} and {@code PATH} from the given variables. */
  public static Builder builder(Map<String, String> environment) {
    return new Builder(environment);
  }

  /**
   * The credentials for a registry host ({@code host[:port]}, or a URL as Docker writes keys), or empty when none
   * are configured anywhere. Fails with a {@link ConfigException} when the Docker config or a helper is broken.
   */
  public Optional<Credentials> resolve(String registry) {
    String host = normalize(registry);
    Credentials c = explicit.get(host);
    if (c != null) return Optional.of(c);
    Path file = dockerConfig;
    if (file == null || !Files.isRegularFile(file)) return Optional.empty();
    JsonNode config;
    try {
      config = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new ConfigException(file.toString(), 0, "", "cannot read the Docker config: " + e.getClass().getSimpleName());
    }
    if (config == null || !config.isObject()) return Optional.empty();
    String serverKey = host.equals("docker.io") ? DOCKER_HUB_KEY : host;

    String helper = findHelper(config.path("credHelpers"), host);
    String helperKey = "credHelpers." + host;
    if (helper == null && config.hasNonNull("credsStore") && !config.get("credsStore").asText().isEmpty()) {
      helper = config.get("credsStore").asText();
      helperKey = "credsStore";
    }
    if (helper != null) {
      Optional<Credentials> fromHelper = runHelper(file, helperKey, helper, serverKey);
      if (fromHelper.isPresent()) return fromHelper;
    }
    return fromAuths(file, config.path("auths"), host);
  }

  /**
   * The host form of a registry name as used for lookups: scheme and path dropped, lowercased, Docker Hub's names
   * ({@code index.docker.io}, {@code registry-1.docker.io}, its v1 URL) folded to {@code docker.io}.
   */
  public static String normalize(String registry) {
    if (registry == null || registry.isBlank()) throw new ValidationException("registry", registry, "must not be blank");
    String h = registry.trim();
    int scheme = h.indexOf("://");
    if (scheme >= 0) h = h.substring(scheme + 3);
    int slash = h.indexOf('/');
    if (slash >= 0) h = h.substring(0, slash);
    h = h.toLowerCase(Locale.ROOT);
    if (h.equals("index.docker.io") || h.equals("registry-1.docker.io")) h = "docker.io";
    return h;
  }

  private static @Nullable String findHelper(JsonNode helpers, String host) {
    for (Iterator<Map.Entry<String, JsonNode>> it = helpers.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (normalize(e.getKey()).equals(host) && !e.getValue().asText().isEmpty()) return e.getValue().asText();
    }
    return null;
  }

  private static Optional<Credentials> fromAuths(Path file, JsonNode auths, String host) {
    JsonNode entry = null;
    // an exact key first (Docker Hub's v1 URL), then any key that names the same host
    if (host.equals("docker.io") && auths.has(DOCKER_HUB_KEY)) entry = auths.get(DOCKER_HUB_KEY);
    for (Iterator<Map.Entry<String, JsonNode>> it = auths.fields(); entry == null && it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (normalize(e.getKey()).equals(host)) entry = e.getValue();
    }
    if (entry == null) return Optional.empty();
    String identityToken = entry.path("identitytoken").asText("");
    if (!identityToken.isEmpty()) return Optional.of(Credentials.identityToken(identityToken));
    String auth = entry.path("auth").asText("");
    if (!auth.isEmpty()) {
      String decoded;
      try {
        decoded = new String(Base64.getDecoder().decode(auth.trim()), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(file.toString(), 0, "auths." + host + ".auth", "is not valid base64");
      }
      int colon = decoded.indexOf(':');
      if (colon < 0) {
        throw new ConfigException(file.toString(), 0, "auths." + host + ".auth", "must encode user:password");
      }
      return Optional.of(new Credentials(decoded.substring(0, colon), Secret.of(decoded.substring(colon + 1))));
    }
    String user = entry.path("username").asText("");
    String password = entry.path("password").asText("");
    if (!user.isEmpty() && !password.isEmpty()) return Optional.of(Credentials.basic(user, password));
    return Optional.empty();
  }

  private Optional<Credentials> runHelper(Path file, String key, String name, String serverKey) {
    if (!HELPER_NAME.matcher(name).matches()) {
      throw new ConfigException(file.toString(), 0, key, "credential helper name '" + name
          + "' must be letters, digits, '.', '_' or '-'");
    }
    String program = "docker-credential-" + name;
    Path exe = helperPath.stream().map(d -> d.resolve(program)).filter(Files::isExecutable).findFirst()
        .orElseThrow(() -> new ConfigException(file.toString(), 0, key, "credential helper " + program
            + " is not an executable on the search path"));
    Process p;
    try {
      p = new ProcessBuilder(List.of(exe.toString(), "get")).start();
    } catch (IOException e) {
      throw new ConfigException(file.toString(), 0, key, "cannot start " + program + ": " + e.getMessage());
    }
    try {
      CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readBounded(p.getInputStream()));
      CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readBounded(p.getErrorStream()));
      try (OutputStream in = p.getOutputStream()) {
        in.write(serverKey.getBytes(StandardCharsets.UTF_8));
      } catch (IOException e) {
        // the helper may exit without reading stdin; its exit status tells what happened
      }
      if (!p.waitFor(helperTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new ConfigException(file.toString(), 0, key, program + " did not answer within " + helperTimeout);
      }
      String stdout = new String(out.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8).trim();
      String stderr = new String(err.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8).trim();
      if (p.exitValue() != 0) {
        String message = stdout.isEmpty() ? stderr : stdout;
        if (message.toLowerCase(Locale.ROOT).contains("credentials not found")) {
          LOG.debug("{} has no credentials for {}", program, serverKey);
          return Optional.empty();
        }
        throw new ConfigException(file.toString(), 0, key, program + " get failed with exit code " + p.exitValue()
            + ": " + firstLine(message));
      }
      JsonNode json;
      try {
        json = JSON.readTree(stdout);
      } catch (IOException e) {
        throw new ConfigException(file.toString(), 0, key, program + " get printed no JSON");
      }
      String user = json.path("Username").asText("");
      String secret = json.path("Secret").asText("");
      if (secret.isEmpty()) return Optional.empty();
      // helpers mark an identity token with the user name "<token>"
      if (user.equals("<token>")) return Optional.of(Credentials.identityToken(secret));
      return Optional.of(new Credentials(user, Secret.of(secret)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConfigException(file.toString(), 0, key, "interrupted while running " + program);
    } catch (ExecutionException | TimeoutException e) {
      throw new ConfigException(file.toString(), 0, key, "cannot read the output of " + program);
    } finally {
      if (p.isAlive()) p.destroyForcibly();
    }
  }

  private static byte[] readBounded(InputStream in) {
    try (in) {
      byte[] b = in.readNBytes(MAX_HELPER_OUTPUT);
      in.transferTo(OutputStream.nullOutputStream());
      return b;
    } catch (IOException e) {
      return new byte[0];
    }
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    String line = nl < 0 ? s : s.substring(0, nl);
    return line.length() > 200 ? line.substring(0, 200) + "…" : line;
  }

  /** Configures a {@link CredentialResolver}. */
  public static final class Builder {
    private final Map<String, Credentials> explicit = new LinkedHashMap<>();
    private @Nullable Path dockerConfig;
    private final List<Path> helperPath = new ArrayList<>();
    private Duration helperTimeout = Duration.ofSeconds(30);

    private Builder(Map<String, String> env) {
      String dir = env.get("DOCKER_CONFIG");
      String home = env.get("HOME");
      if (dir != null && !dir.isBlank()) {
        dockerConfig = Path.of(dir, "config.json");
      } else if (home != null && !home.isBlank()) {
        dockerConfig = Path.of(home, ".docker", "config.json");
      } else {
        dockerConfig = Path.of(System.getProperty("user.home"), ".docker", "config.json");
      }
      String path = env.get("PATH");
      if (path != null) {
        for (String d : path.split(Pattern.quote(File.pathSeparator))) {
          if (!d.isBlank()) helperPath.add(Path.of(d));
        }
      }
    }

    /** Credentials for one registry host; these win over anything in the Docker config. */
    public Builder credentials(String registry, Credentials credentials) {
      explicit.put(normalize(registry), credentials);
      return this;
    }

    /**
     * Reads explicit credentials from a configuration section with {@code address}, {@code username} and a
     * {@code password} secret reference (as in the {@code registry} section); nothing when they are absent.
     */
    public Builder settings(Settings section) {
      Optional<String> address = section.string("address");
      Optional<String> user = section.string("username");
      if (address.isEmpty() || user.isEmpty()) return this;
      Secret password = section.requireSecret("password").resolve();
      return credentials(address.get(), new Credentials(user.get(), password));
    }

    /** The Docker config file to read (default: {@code $DOCKER_CONFIG/config.json} or {@code ~/.docker/config.json}). */
    public Builder dockerConfig(Path configJson) {
      this.dockerConfig = configJson;
      return this;
    }

    /** Do not read a Docker config file at all. */
    public Builder noDockerConfig() {
      this.dockerConfig = null;
      return this;
    }

    /** The directories searched for {@code docker-credential-*} helpers (default: {@code PATH}). */
    public Builder helperPath(List<Path> directories) {
      helperPath.clear();
      helperPath.addAll(directories);
      return this;
    }

    public Builder helperTimeout(Duration timeout) {
      this.helperTimeout = timeout;
      return this;
    }

    public CredentialResolver build() {
      return new CredentialResolver(this);
    }
  }
}
