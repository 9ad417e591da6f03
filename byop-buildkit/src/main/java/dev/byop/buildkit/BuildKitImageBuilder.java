package dev.byop.buildkit;

import dev.byop.docker.DockerClient;
import dev.byop.buildkit.internal.GitFetcher;
import dev.byop.core.BuildException;
import dev.byop.core.Component;
import dev.byop.core.Credentials;
import dev.byop.core.ImageReference;
import dev.byop.core.Secret;
import dev.byop.core.auth.CredentialResolver;
import dev.byop.core.spi.ImageBuilder;
import dev.byop.core.spi.JobContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
  private final @Nullable Credentials gitCredentials;
  /** For tests: runs after the paths were checked, before they are used (to swap a link at that moment). */
  static volatile java.util.function.@Nullable Consumer<Path> afterPathCheck;

  BuildKitImageBuilder(BuildKitClient client, GitFetcher git,
      Function<String, Optional<Credentials>> dockerConfig, @Nullable Credentials gitCredentials) {
    this.client = client;
    this.git = git;
    this.dockerConfig = dockerConfig;
    this.gitCredentials = gitCredentials;
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
    GitFetcher.Checkout co = git.fetch(context.ownerId(), c.source(), request.revision(), c.contextDir(),
        request.credentials() != null ? request.credentials() : gitCredentials, context.log(),
        context.cancellation());
    return new SourceCheckout(co.directory(), co.contextDir(), co.commit());
  }

  @Override
  public BuildResult build(BuildRequest request, JobContext context) {
    Component c = request.component();
    String dockerfile = request.config().dockerfile() != null ? request.config().dockerfile() : c.dockerfile();
    Path ctx = request.checkout().contextDir();
    Path df = ctx.resolve(dockerfile).normalize();
    if (!df.startsWith(request.checkout().directory())) {
      throw new BuildException("Dockerfile '" + dockerfile + "' lies outside the checkout");
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
    context.log().line("building " + image + " from " + request.checkout().commit() + " (" + dockerfile + ")");
    SolveResult r = withCredentials(request.registryCredentials(), image.registry(),
        () -> client.build(b, context.log(), context.cancellation()));
    String digest = r.imageDigest().orElse(null);
    boolean pushed = b.push();
    return new BuildResult(image, pushed ? r.exporterResponse().get("containerimage.config.digest") : digest,
        pushed ? Optional.ofNullable(digest) : Optional.empty());
  }

  /** Stable per app and component, so the daemon keeps the previous upload and re-sends only changes. */
  static String sharedKey(String appId, String component) {
    return "byop:" + appId + ":" + component;
  }

  private <T> T withCredentials(@Nullable Credentials explicit, String registry, java.util.function.Supplier<T> work) {
    // explicit credentials for the target registry first, then ~/.docker/config.json (helpers included)
    if (explicit == null) {
      return work.get();
    }
    String host = CredentialResolver.normalize(registry);
    return client.withCredentials(h -> CredentialResolver.normalize(h).equals(host) ? Optional.of(explicit) : dockerConfig.apply(h), work);
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
