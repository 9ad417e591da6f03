package dev.byop.core.spi;

import dev.byop.core.Credentials;
import dev.byop.core.ImageReference;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Pushes built images to a registry and resolves digests (the seed's {@code PushImage}). Failures are
 * {@link dev.byop.core.RegistryException}s carrying the registry, status and error codes, never a credential.
 */
public interface RegistryClient extends AutoCloseable {

  /** Pushes a locally built image to {@code request.target()} and returns the digest the registry holds. */
  PushResult push(PushRequest request, JobContext context);

  /** The manifest digest the registry holds for a tag, or empty when the tag does not exist. */
  Optional<String> resolveDigest(ImageReference image, @Nullable Credentials credentials);

  /** The credentials configured or found for a registry host, or null. */
  default @Nullable Credentials credentialsFor(String registry) {
    return null;
  }

  @Override
  void close();

  /**
   * @param localImage the image as the builder named it locally (or its id)
   * @param target where to push it, with a tag
   * @param credentials for the target registry, or null to resolve them from configuration
   */
  record PushRequest(String localImage, ImageReference target, @Nullable Credentials credentials) {}

  /**
   * @param image the pushed reference with its digest
   * @param digest the manifest digest
   */
  record PushResult(ImageReference image, String digest) {}
}
