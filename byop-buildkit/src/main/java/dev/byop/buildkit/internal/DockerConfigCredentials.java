package dev.byop.buildkit.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registry credentials from {@code ~/.docker/config.json} (or {@code $DOCKER_CONFIG/config.json}): per-registry
 * {@code credHelpers}, then the {@code credsStore}, then inline {@code auths}, the way the Docker CLI resolves them.
 */
public final class DockerConfigCredentials {
  private static final Logger LOG = LoggerFactory.getLogger(DockerConfigCredentials.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String HUB_KEY = "https://index.docker.io/v1/";
  private static final Pattern HELPER = Pattern.compile("[A-Za-z0-9._-]+");
  private final Path configFile;

  public DockerConfigCredentials(Path configFile) {
    this.configFile = configFile;
  }

  /** {@code $DOCKER_CONFIG/config.json}, else {@code ~/.docker/config.json}. */
  public static DockerConfigCredentials fromEnvironment() {
    String dir = System.getenv("DOCKER_CONFIG");
    Path base = dir != null && !dir.isBlank() ? Path.of(dir) : Path.of(System.getProperty("user.home"), ".docker");
    return new DockerConfigCredentials(base.resolve("config.json"));
  }

  /** Credentials for a registry host as the daemon names it ({@code registry-1.docker.io} for Docker Hub). */
  public Optional<AuthService.Creds> lookup(String host) {
    if (!Files.isRegularFile(configFile)) {
      return Optional.empty();
    }
    JsonNode cfg;
    try {
      cfg = JSON.readTree(configFile.toFile());
    } catch (IOException e) {
      LOG.warn("cannot read Docker config {}: {}", configFile, e.getMessage());
      return Optional.empty();
    }
    boolean hub = host.equals("registry-1.docker.io") || host.equals("docker.io") || host.equals("index.docker.io");
    String key = hub ? HUB_KEY : host;
    String helper = cfg.path("credHelpers").path(key).asText("");
    if (helper.isEmpty()) {
      helper = cfg.path("credsStore").asText("");
    }
    if (!helper.isEmpty()) {
      Optional<AuthService.Creds> c = fromHelper(helper, key);
      if (c.isPresent()) {
        return c;
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = cfg.path("auths").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!normalize(e.getKey()).equals(normalize(key))) {
        continue;
      }
      JsonNode a = e.getValue();
      if (!a.path("identitytoken").asText("").isEmpty()) {
        return Optional.of(new AuthService.Creds("", a.get("identitytoken").asText()));
      }
      String auth = a.path("auth").asText("");
      if (!auth.isEmpty()) {
        String up = new String(Base64.getDecoder().decode(auth), StandardCharsets.UTF_8);
        int colon = up.indexOf(':');
        if (colon > 0) {
          return Optional.of(new AuthService.Creds(up.substring(0, colon), up.substring(colon + 1)));
        }
      }
    }
    return Optional.empty();
  }

  static String normalize(String k) {
    String s = k.replaceFirst("^[a-z]+://", "");
    int slash = s.indexOf('/');
    s = slash >= 0 ? s.substring(0, slash) : s;
    return s.equals("index.docker.io") ? "registry-1.docker.io" : s;
  }

  private Optional<AuthService.Creds> fromHelper(String helper, String serverUrl) {
    if (!HELPER.matcher(helper).matches()) {
      LOG.warn("ignoring Docker credential helper name '{}': must match {}", helper, HELPER);
      return Optional.empty();
    }
    try {
      Process p = new ProcessBuilder(List.of("docker-credential-" + helper, "get"))
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
      try (OutputStream in = p.getOutputStream()) {
        in.write(serverUrl.getBytes(StandardCharsets.UTF_8));
      }
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        return Optional.empty(); // "credentials not found" exits non-zero
      }
      JsonNode j = JSON.readTree(out);
      String user = j.path("Username").asText("");
      String secret = j.path("Secret").asText("");
      if (secret.isEmpty()) {
        return Optional.empty();
      }
      return Optional.of(new AuthService.Creds(user.equals("<token>") ? "" : user, secret));
    } catch (IOException e) {
      LOG.warn("Docker credential helper docker-credential-{} failed: {}", helper, e.getMessage());
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }
}
