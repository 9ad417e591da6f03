package dev.byop.examples.api;

import dev.byop.core.App;
import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.Component;
import dev.byop.core.GitCredentials;
import dev.byop.core.GitSource;
import dev.byop.core.LogLine;
import dev.byop.core.Preview;
import dev.byop.core.SecretRef;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.AppStore.AppState;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The JSON shapes of the API: request bodies as records Jackson binds (unknown fields are refused), responses as
 * ordered maps written field by field, so the wire format is spelled out here and never follows byop's Java types by
 * accident (a git URL, for instance, is shown only with its credentials removed, and secret env values not at all).
 */
final class JsonViews {
  /** Env names that say their value is a secret (see {@link #envValue}). */
  private static final Pattern SECRET_NAME = Pattern.compile(
      "PASSW|SECRET|TOKEN|CREDENTIAL|PRIVATE|(^|_)(API_?)?KEY($|_)|(^|_)AUTH($|_)|PASSPHRASE|(^|_)PWD($|_)",
      Pattern.CASE_INSENSITIVE);

  private JsonViews() {}

  /** {@code POST /apps}. */
  record AppRequest(@Nullable String id, @Nullable String name, @Nullable List<ComponentRequest> components) {
    App toApp() {
      List<Component> cs = new ArrayList<>();
      if (components != null) for (ComponentRequest c : components) cs.add(c.toComponent());
      return new App(id, name == null ? id : name, cs);
    }
  }

  /** One component of {@link AppRequest}. */
  record ComponentRequest(@Nullable String name, @Nullable SourceRequest source, @Nullable String contextDir,
      @Nullable String dockerfile, @Nullable Map<String, String> buildArgs, @Nullable Integer port,
      @Nullable Map<String, String> env, @Nullable String healthPath) {
    Component toComponent() {
      GitSource s = source == null ? null : new GitSource(source.url(), source.ref(), source.commit(),
          source.credentials() == null ? null : source.credentials().toCredentials());
      return new Component(name, s, contextDir, dockerfile, buildArgs, port == null ? 0 : port, env, healthPath);
    }
  }

  /** A component's git source. */
  record SourceRequest(@Nullable String url, @Nullable String ref, @Nullable String commit,
      @Nullable CredentialsRequest credentials) {}

  /**
   * An app's own git credentials: {@code {"username": "ci", "token": {"file": "git-token"}}}. Only a file name is
   * taken, which the builder reads from this app's own folder ({@code builder.git.appSecrets/<app id>/}); an
   * {@code env} reference or an absolute path would let an API client point the token at the server's secrets.
   */
  record CredentialsRequest(@Nullable String username, @Nullable Map<String, String> token) {
    GitCredentials toCredentials() {
      String file = token == null || token.size() != 1 ? null : token.get("file");
      if (file == null || !file.matches("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")) {
        throw new ValidationException("source.credentials.token", null,
            "must be {\"file\": NAME}, a plain file name ([A-Za-z0-9._-], no path, no env reference) in the app's"
                + " secrets folder");
      }
      return GitCredentials.of(username == null ? "" : username, SecretRef.file(Path.of(file)));
    }
  }

  /**
   * {@code POST /apps/{id}/build}; every field optional. Build secrets are deliberately not accepted here: they are
   * references to the server's environment and files, which an API client must not be able to point a build at.
   */
  record BuildRequest(@Nullable String component, @Nullable String commit, @Nullable String dockerfile,
      @Nullable Map<String, String> buildArgs, @Nullable String target, @Nullable Map<String, String> labels,
      @Nullable List<String> platforms, @Nullable Boolean noCache, @Nullable String tag) {
    BuildConfig toConfig() {
      return new BuildConfig(component, commit, dockerfile, buildArgs, target, labels, platforms,
          noCache != null && noCache, Map.of(), tag);
    }
  }

  /** {@code POST /previews}. */
  record PreviewRequest(@Nullable String appId, @Nullable String commit) {}

  static Map<String, Object> app(App app, @Nullable AppState state) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", app.id());
    m.put("name", app.name());
    List<Object> cs = new ArrayList<>();
    for (Component c : app.components()) cs.add(component(c));
    m.put("components", cs);
    m.put("currentImage", state == null ? null : state.currentImage());
    m.put("currentDigest", state == null ? null : state.currentDigest());
    m.put("previewId", state == null ? null : state.previewId());
    m.put("previewUrl", state == null ? null : state.previewUrl());
    return m;
  }

  private static Map<String, Object> component(Component c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", c.name());
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("url", c.source().redactedUrl());
    s.put("ref", c.source().ref());
    s.put("commit", c.source().commit());
    GitCredentials gc = c.source().credentials();
    // the reference is shown (it is no secret), never what it points at
    s.put("credentials", gc == null ? null : Map.of("username", gc.username(), "token",
        gc.token() instanceof SecretRef.File f ? Map.of("file", f.path().toString()) : Map.of("set", true)));
    m.put("source", s);
    m.put("contextDir", c.contextDir());
    m.put("dockerfile", c.dockerfile());
    m.put("buildArgs", c.buildArgs());
    m.put("port", c.port());
    Map<String, Object> env = new LinkedHashMap<>();
    c.env().forEach((k, v) -> env.put(k, envValue(k, v)));
    m.put("env", env);
    m.put("healthPath", c.healthPath());
    return m;
  }

  /**
   * An env value as shown: secrets are write-only. A value that is a secret reference (as byop spells them,
   * {@code env:NAME} or {@code file:/path}) shows only its kind, {@code {"secret": true, "ref": "env"}}, since even the
   * name or path tells an attacker where to look; a value whose name says it is a secret ({@code *PASSWORD*},
   * {@code *TOKEN*}, {@code *SECRET*}, {@code *_KEY}, ...) shows {@code {"secret": true}}. Everything else is shown
   * exactly as stored.
   */
  static Object envValue(String name, String value) {
    int colon = value.indexOf(':');
    String kind = colon < 0 ? "" : value.substring(0, colon);
    if ((kind.equals("env") || kind.equals("file") || kind.equals("secret")) && colon + 1 < value.length()) {
      Map<String, Object> ref = new LinkedHashMap<>();
      ref.put("secret", true);
      ref.put("ref", kind);
      return ref;
    }
    return SECRET_NAME.matcher(name).find() ? Map.of("secret", true) : value;
  }

  static Map<String, Object> job(BuildJob j) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", j.id());
    m.put("appId", j.appId());
    m.put("component", j.component());
    m.put("status", j.status().name());
    Map<String, Object> times = new LinkedHashMap<>();
    j.statusTimes().forEach((k, v) -> times.put(k.name(), time(v)));
    m.put("statusTimes", times);
    m.put("attempt", j.attempt());
    m.put("commit", j.commit());
    m.put("image", j.image());
    m.put("digest", j.digest());
    m.put("error", j.error());
    BuildConfig c = j.config();
    Map<String, Object> req = new LinkedHashMap<>();
    req.put("commit", c.commit());
    req.put("dockerfile", c.dockerfile());
    req.put("buildArgs", c.buildArgs());
    req.put("target", c.target());
    req.put("labels", c.labels());
    req.put("platforms", c.platforms());
    req.put("noCache", c.noCache());
    req.put("tag", c.tag());
    m.put("request", req);
    m.put("logs", "/builds/" + j.id() + "/logs");
    return m;
  }

  static Map<String, Object> preview(Preview p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", p.id());
    m.put("appId", p.appId());
    m.put("status", p.status().name());
    m.put("deployer", p.deployer());
    m.put("commit", p.commit());
    m.put("hostname", p.hostname());
    m.put("host", p.host());
    m.put("address", p.address());
    m.put("url", p.url());
    m.put("images", p.images());
    m.put("createdAt", time(p.createdAt()));
    m.put("updatedAt", time(p.updatedAt()));
    m.put("expiresAt", time(p.expiresAt()));
    m.put("attempt", p.attempt());
    m.put("error", p.error());
    m.put("logs", "/previews/" + p.id() + "/logs");
    return m;
  }

  static Map<String, Object> logs(List<LogLine> lines, long after) {
    List<Object> out = new ArrayList<>();
    long next = after;
    for (LogLine l : lines) {
      out.add(Map.of("seq", l.seq(), "time", time(l.time()), "text", l.text()));
      next = Math.max(next, l.seq());
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("lines", out);
    m.put("next", next);
    return m;
  }

  static @Nullable String time(@Nullable Instant t) {
    return t == null ? null : t.toString();
  }
}
