package dev.byop.preview.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The local image store images are shipped from: its layer list and a streamed {@code docker save} archive.
 *
 * <p>A small seam so that the Engine API client of {@code byop-docker} can replace the CLI-based default.
 */
interface LocalImages {

  /**
   * Identity of a local image: its id, the diff ids of its layers (lowest first) and its config's creation time as
   * the engine prints it (null when unknown). Id alone does not carry across image stores: a containerd-store engine
   * names an image by its manifest digest, a classic one by its config digest.
   */
  record LocalImage(String reference, String id, List<String> diffIds, @Nullable String created) {

    public LocalImage(String reference, String id, List<String> diffIds) {
      this(reference, id, diffIds, null);
    }

    /**
     * Whether a host's image (its inspect id, creation time and diff ids) is this one: the same id, or, across
     * image stores, the same config creation time and the same layers.
     */
    public boolean sameAs(@Nullable String otherId, @Nullable String otherCreated, List<String> otherDiffIds) {
      if (otherId == null) {
        return false;
      }
      return id.equals(otherId) || (created != null && created.equals(otherCreated) && diffIds.equals(otherDiffIds));
    }
  }

  /** Looks up an image by reference; raises {@link SshException} when it does not exist locally. */
  LocalImage inspect(String reference) throws IOException;

  /** A streamed save archive of the image (tags included); closing the stream early aborts the save. */
  InputStream save(String reference) throws IOException;
}
