package dev.byop.preview.compose;

import dev.byop.core.Preview;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.PreviewDeployer.DeployRequest;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where previews go and how their images get there: the local engine (one host, images already there or pulled), or
 * hosts of a {@link dev.byop.core.spi.CloudProvider} reached over SSH (a slot leased per preview, images shipped
 * layer by layer or pulled from the registry the build pushed to). The {@link ComposeDeployer} asks it for a host and
 * does the rest the same way on every host.
 */
public interface Placement extends AutoCloseable {
  /**
   * Reserves a host for the preview (the one it holds already, if any), delivers its images there and returns the
   * host with the image name to run per component.
   */
  Placed place(DeployRequest request, JobContext context);

  /** The host the preview holds, else the host it was recorded RUNNING on, if known. */
  Optional<PreviewHost> hostOf(Preview preview);

  /** Every host, with the ids of the previews holding a slot on it (for the orphan sweep). */
  Map<PreviewHost, Set<String>> hosts();

  /** Frees the preview's slot; nothing when it holds none. */
  void release(String previewId);

  @Override
  default void close() {}

  /**
   * @param host where the preview runs
   * @param images the image name to run per component, as the host's engine knows it
   */
  record Placed(PreviewHost host, Map<String, String> images) {
    public Placed {
      images = Map.copyOf(images);
    }
  }
}
