package dev.byop.registry;

import dev.byop.core.ValidationException;
import org.jspecify.annotations.Nullable;

/**
 * Points at content in a registry by media type, digest and size, as manifests and indexes do.
 *
 * @param platform set only for the entries of an index
 */
public record Descriptor(String mediaType, String digest, long size, @Nullable Platform platform) {
  public Descriptor {
    Digests.check(digest);
    if (size < 0) throw new ValidationException("descriptor.size", size, "must not be negative");
  }

  public Descriptor(String mediaType, String digest, long size) {
    this(mediaType, digest, size, null);
  }

  public Descriptor withPlatform(Platform p) {
    return new Descriptor(mediaType, digest, size, p);
  }
}
