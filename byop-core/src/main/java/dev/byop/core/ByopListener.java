package dev.byop.core;

/**
 * Typed callbacks for what users act on: status changes and log lines of builds and previews. Callbacks run on byop's
 * worker threads: keep them short and do not block. An exception thrown by a listener is logged and ignored.
 */
public interface ByopListener {
  /** A build job moved from one status to another; {@code job} is as stored after the change. */
  default void buildStatusChanged(BuildJob job, BuildStatus from) { }

  /** A preview moved from one status to another; {@code preview} is as stored after the change. */
  default void previewStatusChanged(Preview preview, PreviewStatus from) { }

  /** A log line was stored for a build job or preview. */
  default void logLine(LogLine line) { }

  /** A preview's image reached its host (shipped, pulled or found there), with the bytes sent and skipped. */
  default void imageDelivered(ImageDelivery delivery) { }
}
