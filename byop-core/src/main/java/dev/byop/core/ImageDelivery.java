package dev.byop.core;

/**
 * How a preview's image got to the host it runs on, as a deployer reports it to {@link ByopListener#imageDelivered}.
 *
 * @param previewId the preview
 * @param host the host id ({@code byop.local} or the cloud provider's id)
 * @param image the image as the host's engine names it
 * @param path how it got there: {@code present} (nothing to send), {@code thin} (only the layers the host lacked),
 *     {@code full} (the whole image), {@code registry} (the host pulled it)
 * @param bytesSent bytes sent to the host for it (0 when it pulled or had it)
 * @param bytesSkipped bytes of layers the host already had and that were not sent
 */
public record ImageDelivery(String previewId, String host, String image, String path, long bytesSent,
    long bytesSkipped) {
  public ImageDelivery {
    if (!path.equals("present") && !path.equals("thin") && !path.equals("full") && !path.equals("registry")) {
      throw new ValidationException("delivery.path", path, "must be present, thin, full or registry");
    }
    if (bytesSent < 0 || bytesSkipped < 0) {
      throw new ValidationException("delivery.bytes", bytesSent + "/" + bytesSkipped, "must not be negative");
    }
  }
}
