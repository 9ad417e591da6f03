package dev.byop.registry.internal;

import dev.byop.core.Credentials;
import dev.byop.core.ImageReference;
import dev.byop.core.spi.JobContext;
import org.jspecify.annotations.Nullable;

/** Moves a locally built image into a registry; the registry client then checks what arrived. */
public interface ImagePusher extends AutoCloseable {
  /**
   * Pushes {@code localImage} as {@code target} (which has a tag).
   *
   * @return the manifest digest the pushing side reported, or null when it reports none
   */
  @Nullable String push(String localImage, ImageReference target, @Nullable Credentials credentials, JobContext context);

  @Override
  default void close() {}
}
