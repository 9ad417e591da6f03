package dev.byop.preview.ssh;

import java.time.Duration;

/**
 * What shipping one image to one host cost.
 *
 * @param image the reference shipped
 * @param imageId the local (and now remote) image id
 * @param bytesSent bytes written into remote {@code docker load} channels, over all attempts
 * @param layers layers in the image archive
 * @param layersSkipped layer files left out because the host already had them
 * @param bytesSkipped bytes of the layer files left out
 * @param fullArchive true when the whole archive was sent (first time, or fallback after a rejected partial one)
 * @param alreadyPresent true when the host already had the image and nothing was sent
 * @param attempts transfer attempts made (more than 1 after a lost connection or a fallback)
 * @param duration wall time of the whole operation
 * @param reason why this path was taken, for the preview's log
 */
record ShipResult(String image, String imageId, long bytesSent, int layers, int layersSkipped, long bytesSkipped,
        boolean fullArchive, boolean alreadyPresent, int attempts, Duration duration, String reason) {

  /** {@code present}, {@code thin} or {@code full}, as {@link dev.byop.core.ImageDelivery} names the paths. */
  String path() {
    return alreadyPresent ? "present" : fullArchive ? "full" : "thin";
  }
}
