package dev.byop.core.spi;

import dev.byop.core.BuildConfig;
import dev.byop.core.Component;
import dev.byop.core.Credentials;
import dev.byop.core.ImageReference;
import dev.byop.core.Secret;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Fetches a component's source and builds its image (the seed's {@code FetchSource} and {@code BuildImage}).
 * Implementations must stop promptly when the job's {@link Cancellation} fires and throw
 * {@link dev.byop.core.CancelledException}; failures are {@link dev.byop.core.BuildException}s.
 */
public interface ImageBuilder extends AutoCloseable {

  /** What the builder can do; the orchestrator reads {@link BuilderCapabilities#canPush()} to choose the push path. */
  BuilderCapabilities capabilities();

  /** Checks out the component's source at the requested revision into a per-job directory. */
  SourceCheckout fetchSource(FetchRequest request, JobContext context);

  /** Builds the image from a checkout; pushes it too when {@link BuildRequest#push()} and the builder can. */
  BuildResult build(BuildRequest request, JobContext context);

  /**
   * Whether {@code image} already exists where this builder puts images (so a preview of a commit that was built
   * before reuses it); builders that cannot tell answer false and the image is built again.
   */
  default boolean hasImage(ImageReference image) {
    return false;
  }

  /** Removes a job's checkout directory (its cache stays). */
  default void cleanup(SourceCheckout checkout) { }

  @Override
  void close();

  /**
   * What the builder is and can do.
   *
   * @param name e.g. {@code buildkit (docker)}
   * @param version the builder's version when known, e.g. {@code v0.8.3}
   * @param platforms platforms its workers build for, e.g. {@code linux/amd64}
   * @param canPush whether {@link #build} can push to a registry itself
   * @param details anything else worth showing (endpoint, worker ids)
   */
  record BuilderCapabilities(String name, @Nullable String version, java.util.List<String> platforms, boolean canPush,
      Map<String, String> details) {}

  /**
   * @param appId the app
   * @param component the component (its source and context dir)
   * @param revision the commit or ref to check out (overrides the component's source revision), or null
   * @param credentials git credentials (token as password, or SSH key via configuration), or null
   */
  record FetchRequest(String appId, Component component, @Nullable String revision, @Nullable Credentials credentials) {}

  /**
   * @param directory the repository checkout root
   * @param contextDir the component's build context inside it
   * @param commit the full commit id checked out
   */
  record SourceCheckout(Path directory, Path contextDir, String commit) {}

  /**
   * @param appId the app (with the component, the key for incremental context upload)
   * @param component the component
   * @param checkout where its source is
   * @param config the build request's options
   * @param image the name (and tag) to give the image
   * @param secrets build secrets by id, already resolved
   * @param push whether to push from the builder (only when {@link BuilderCapabilities#canPush()})
   * @param registryCredentials credentials for pushing and for pulling base images, or null
   */
  record BuildRequest(String appId, Component component, SourceCheckout checkout, BuildConfig config,
      ImageReference image, Map<String, Secret> secrets, boolean push, @Nullable Credentials registryCredentials) {}

  /**
   * @param image the image built
   * @param imageId the local image id (config digest) when the builder keeps the image locally
   * @param pushedDigest the manifest digest when the builder pushed the image
   */
  record BuildResult(ImageReference image, @Nullable String imageId, Optional<String> pushedDigest) {}
}
