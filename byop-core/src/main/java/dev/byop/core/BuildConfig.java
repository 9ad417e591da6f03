package dev.byop.core;

import dev.byop.core.internal.Checks;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What to build for one request: which component and revision, and the Dockerfile options. Build secrets are
 * references resolved only when the builder asks for them; they never become build args.
 *
 * @param component the component to build, or null for the app's first component
 * @param commit a commit or ref overriding the component's source revision, or null
 * @param dockerfile a Dockerfile path overriding the component's, or null
 * @param buildArgs build arguments, laid over the component's
 * @param target the stage to build, or null for the last
 * @param labels image labels
 * @param platforms target platforms such as {@code linux/amd64}; empty means the daemon's own
 * @param noCache build without the cache
 * @param secrets build secrets by id, for {@code RUN --mount=type=secret,id=…}
 * @param tag the image tag, or null for one derived from the commit; never 7-64 lowercase hex characters, the form
 *     reserved for commit-derived tags (see {@code ImageNames})
 */
public record BuildConfig(@Nullable String component, @Nullable String commit, @Nullable String dockerfile,
    Map<String, String> buildArgs, @Nullable String target, Map<String, String> labels, List<String> platforms,
    boolean noCache, Map<String, SecretRef> secrets, @Nullable String tag) {
  private static final Pattern PLATFORM = Pattern.compile("[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?");
  private static final Pattern SECRET_ID = Pattern.compile("[A-Za-z0-9_.-]{1,128}");
  private static final Pattern TARGET = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

  public BuildConfig {
    if (component != null) Checks.dnsLabel("build.component", component);
    if (commit != null) GitSource.checkRef("build.commit", commit);
    if (dockerfile != null) Checks.relativePath("build.dockerfile", dockerfile);
    buildArgs = Checks.envMap("build.buildArgs", buildArgs);
    if (target != null && !TARGET.matcher(target).matches()) {
      throw new ValidationException("build.target", Checks.printable(target), "must be a stage name [A-Za-z0-9_.-]");
    }
    labels = labels == null ? Map.of() : Map.copyOf(labels);
    labels.forEach((k, v) -> {
      Checks.notBlank("build.labels key", k);
      Checks.singleLine("build.labels key", k);
      Checks.noNul("build.labels." + k, v);
    });
    platforms = Checks.list(platforms);
    for (String p : platforms) {
      if (!PLATFORM.matcher(p).matches()) throw new ValidationException("build.platforms", p, "must be os/arch[/variant]");
    }
    secrets = secrets == null ? Map.of() : Map.copyOf(secrets);
    for (String id : secrets.keySet()) {
      if (!SECRET_ID.matcher(id).matches()) throw new ValidationException("build.secrets id", id, "must match [A-Za-z0-9_.-]{1,128}");
    }
    if (tag != null) dev.byop.core.internal.ImageNames.checkUserTag("build.tag", tag);
  }

  /** Build the app's first component at its configured revision with no extra options. */
  public static BuildConfig defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A fluent builder for {@link BuildConfig}. */
  public static final class Builder {
    private @Nullable String component;
    private @Nullable String commit;
    private @Nullable String dockerfile;
    private final Map<String, String> buildArgs = new LinkedHashMap<>();
    private @Nullable String target;
    private final Map<String, String> labels = new LinkedHashMap<>();
    private List<String> platforms = List.of();
    private boolean noCache;
    private final Map<String, SecretRef> secrets = new LinkedHashMap<>();
    private @Nullable String tag;

    public Builder component(String v) { component = v; return this; }
    public Builder commit(String v) { commit = v; return this; }
    public Builder dockerfile(String v) { dockerfile = v; return this; }
    public Builder buildArg(String k, String v) { buildArgs.put(k, v); return this; }
    public Builder target(String v) { target = v; return this; }
    public Builder label(String k, String v) { labels.put(k, v); return this; }
    public Builder platforms(List<String> v) { platforms = v; return this; }
    public Builder noCache(boolean v) { noCache = v; return this; }
    public Builder secret(String id, SecretRef ref) { secrets.put(id, ref); return this; }
    public Builder tag(String v) { tag = v; return this; }

    public BuildConfig build() {
      return new BuildConfig(component, commit, dockerfile, buildArgs, target, labels, platforms, noCache, secrets, tag);
    }
  }
}
