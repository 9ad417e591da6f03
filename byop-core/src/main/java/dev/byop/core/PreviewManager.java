package dev.byop.core;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Runs the Preview workflow: {@link #createPreview} persists a BUILDING preview and returns at once; workers build
 * every component, deploy them, route a URL and record RUNNING or FAILED, with the same lease and recovery rules as
 * builds. Expired previews are torn down by a reaper.
 */
public interface PreviewManager extends AutoCloseable {
  /** Creates a preview of the app at each component's configured revision. */
  default Preview createPreview(String appId) {
    return createPreview(appId, null);
  }

  /**
   * Creates a preview of the app at {@code commit} (a commit or ref applied to every component), or configured;
   * {@link PreviewLimitException} when the app already has {@code preview.maxPerApp} previews that are not stopped.
   */
  Preview createPreview(String appId, @Nullable String commit);

  /** The preview as stored; {@link NotFoundException} when unknown. */
  Preview preview(String previewId);

  /** The app's current preview, if any. */
  Optional<Preview> currentPreview(String appId);

  /** Redeploys a preview for a new commit, replacing what ran before. */
  Preview redeploy(String previewId, @Nullable String commit);

  /** Tears a preview down (containers, networks, volumes, route, unused images) and marks it STOPPED. */
  Preview deletePreview(String previewId);

  /** Stored log lines (build and deploy) after {@code afterSeq}, in order. */
  List<LogLine> logs(String previewId, long afterSeq, int limit);

  /** Like {@link BuildOrchestrator#followLogs}: stored lines, then live ones, no gaps or duplicates. */
  AutoCloseable followLogs(String previewId, long afterSeq, Consumer<LogLine> consumer);

  /** Waits until the preview is RUNNING, FAILED or STOPPED, at most {@code timeout}. */
  Preview await(String previewId, Duration timeout);

  @Override
  void close();
}
