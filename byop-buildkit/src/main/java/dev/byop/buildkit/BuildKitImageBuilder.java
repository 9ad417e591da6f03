package dev.byop.buildkit;

import dev.byop.docker.DockerClient;
import dev.byop.buildkit.internal.GitCredentialScopes;
import dev.byop.buildkit.internal.GitFetcher;
import dev.byop.buildkit.internal.SafePaths;
import dev.byop.core.BuildException;
import dev.byop.core.Component;
import dev.byop.core.Credentials;
import dev.byop.core.ImageReference;
import dev.byop.core.Secret;
import dev.byop.core.auth.CredentialResolver;
import dev.byop.core.spi.ImageBuilder;
import dev.byop.core.spi.JobContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The {@link ImageBuilder} on BuildKit: fetches source with the git CLI, builds with {@code dockerfile.v0} over a
 * session that uploads the local context incrementally (shared key per app and component).
 */
public final class BuildKitImageBuilder implements ImageBuilder {
  private final BuildKitClient client;
  private final GitFetcher git;
  private final Function<String, Optional<Credentials>> dockerConfig;
  private final GitCredentialScopes gitCredentials;
  private final Set<String> pushRegistries;
  private final Set<String> baseRegistries;
  /** For tests: runs after the paths were checked, before they are used (to swap a link at that moment). */
  static volatile java.util.function.@Nullable Consumer<Path> afterPathCheck;

  /**
   * @param dockerConfig registry credentials by host (explicit configuration, then the Docker config)
   * @param pushRegistries normalized hosts builds push to (the configured registry)
   * @param baseRegistries normalized hosts whose credentials base-image pulls may use ({@code builder.registryAuth})
   */
  BuildKitImageBuilder(BuildKitClient client, GitFetcher git,
      Function<String, Optional<Credentials>> dockerConfig, GitCredentialScopes gitCredentials,
      Set<String> pushRegistries, Set<String> baseRegistries) {
    this.client = client;
    this.git = git;
    this.dockerConfig = dockerConfig;
    this.gitCredentials = gitCredentials;
    this.pushRegistries = Set.copyOf(pushRegistries);
    this.baseRegistries = Set.copyOf(baseRegistries);
  }

  /** The underlying client (for direct builds of local directories). */
  public BuildKitClient client() {
    return client;
  }

  @Override
  public BuilderCapabilities capabilities() {
    return client.capabilities();
  }

  @Override
  public SourceCheckout fetchSource(FetchRequest request, JobContext context) {
    Component c = request.component();
    // credentials are chosen for this source's URL (request, then the app's own, then configuration by prefix) and
    // the fetcher holds them to that URL's host
    GitFetcher.Auth auth = gitCredentials.choose(request.appId(), c.source(), request.credentials());
    GitFetcher.Checkout co = git.fetch(context.ownerId(), request.appId(), c.source(), request.revision(),
        c.contextDir(), auth, context.log(), context.cancellation());
    return new SourceCheckout(co.directory(), co.contextDir(), co.commit());
  }

  @Override
  public BuildResult build(BuildRequest request, JobContext context) {
    Component c = request.component();
    boolean fromRequest = request.config().dockerfile() != null;
    String dockerfile = fromRequest ? request.config().dockerfile() : c.dockerfile();
    // Every user-named path is resolved following links and must stay in the checkout; then only the real paths
    // are used, and BuildKitClient opens them without following links (SafePaths explains the design).
    Path root = SafePaths.real(request.checkout().directory());
    Path ctx = SafePaths.inside(root, request.checkout().contextDir(), "component.contextDir", c.contextDir());
    if (!Files.isDirectory(ctx, LinkOption.NOFOLLOW_LINKS)) {
      throw new BuildException("component.contextDir '" + c.contextDir() + "' is not a directory");
    }
    String dfField = fromRequest ? "build.dockerfile" : "component.dockerfile";
    String dfShown = c.contextDir().equals(".") ? dockerfile : c.contextDir() + "/" + dockerfile;
    Path df = SafePaths.inside(root, ctx.resolve(dockerfile), dfField, dfShown);
    if (!Files.isRegularFile(df, LinkOption.NOFOLLOW_LINKS)) {
      throw new BuildException(dfField + " '" + dfShown + "' is not a regular file");
    }
    java.util.function.Consumer<Path> hook = afterPathCheck;
    if (hook != null) {
      hook.accept(root);
    }
    Map<String, String> args = new LinkedHashMap<>(c.buildArgs());
    args.putAll(request.config().buildArgs());
    Map<String, byte[]> secrets = new LinkedHashMap<>();
    for (Map.Entry<String, Secret> e : request.secrets().entrySet()) {
      secrets.put(e.getKey(), e.getValue().reveal().getBytes(StandardCharsets.UTF_8));
    }
    ImageReference image = request.image();
    DockerfileBuild b = new DockerfileBuild(ctx, null, df, request.config().target(), args,
        request.config().labels(), request.config().platforms(), request.config().noCache(), List.of(), List.of(),
        List.of(image.toString()), request.push() && client.endpoint().kind() != BuildKitEndpoint.Kind.DOCKER,
        secrets, sharedKey(request.appId(), c.name()));
    context.log().line("building " + image + " from " + request.checkout().commit() + " (" + dfShown + ")");
    SolveResult r;
    try {
      r = withCredentials(request.registryCredentials(), image, request.push(),
          () -> client.build(b, context.log(), context.cancellation()));
    } catch (BuildException e) {
      throw withoutHostPaths(e, root, request.checkout().directory());
    }
    String digest = r.imageDigest().orElse(null);
    boolean pushed = b.push();
    return new BuildResult(image, pushed ? r.exporterResponse().get("containerimage.config.digest") : digest,
        pushed ? Optional.ofNullable(digest) : Optional.empty());
  }

  /** The error with the checkout's host path shown as {@code <checkout>} (messages show repo-relative paths). */
  private static BuildException withoutHostPaths(BuildException e, Path... roots) {
    String msg = String.valueOf(e.getMessage());
    String shown = msg;
    for (Path p : roots) {
      shown = shown.replace(p.toString(), "<checkout>");
    }
    return shown.equals(msg) ? e : new BuildException(shown, e.step(), e.exitCode(), e.logTail(), e);
  }

  /** Stable per app and component, so the daemon keeps the previous upload and re-sends only changes. */
  static String sharedKey(String appId, String component) {
    return "byop:" + appId + ":" + component;
  }

  /**
   * Runs a build whose daemon gets registry credentials only for the hosts this build needs: its push target (the
   * configured registry, the image's own registry when it names one) with the request's credentials or the
   * resolver's, and the base-image registries the host configured ({@code builder.registryAuth}). Every other host
   * the daemon asks about gets none, whatever the Docker config holds.
   */
  private <T> T withCredentials(@Nullable Credentials explicit, ImageReference image, boolean push,
      java.util.function.Supplier<T> work) {
    Set<String> targets = new HashSet<>(pushRegistries);
    if (push || !image.registry().equals(ImageReference.DOCKER_HUB)) {
      targets.add(CredentialResolver.normalize(image.registry()));
    }
    return client.withCredentials(h -> {
      String host = CredentialResolver.normalize(h);
      if (targets.contains(host)) {
        return explicit != null ? Optional.of(explicit) : dockerConfig.apply(h);
      }
      return baseRegistries.contains(host) ? dockerConfig.apply(h) : Optional.empty();
    }, work);
  }

  /**
   * On a Docker endpoint, whether the engine holds the image (the {@code moby} exporter puts built images there); a
   * standalone buildkitd keeps no local images, so it answers false and the image is built again (from its cache).
   */
  @Override
  public boolean hasImage(ImageReference image) {
    if (client.endpoint().kind() != BuildKitEndpoint.Kind.DOCKER || client.endpoint().engine() == null) {
      return false;
    }
    try (DockerClient engine = DockerClient.connect(client.endpoint().engine())) {
      return engine.inspectImage(image.familiar()).isPresent();
    }
  }

  @Override
  public void cleanup(SourceCheckout checkout) {
    Path jobDir = checkout.directory().getParent();
    if (jobDir != null) {
      GitFetcher.deleteTree(jobDir);
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
