package dev.byop.core;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Runs the Preview workflow: {@link #createPreview} persists a BUILDING preview and returns at once; workers build
 * every component as a job of the {@link BuildOrchestrator} (or reuse the image of that commit), deploy them, route a URL and record RUNNING or FAILED, with the same lease and recovery rules as
 * builds. Expired previews are torn down by a reaper.
 */
public interface PreviewManager extends AutoCloseable {
  /**
   * The keys of the {@code preview} section the manager itself reads; a deployer reads its own beside them (see
   * {@link dev.byop.core.spi.ProviderFactory#settingsKeys()}).
   */
  java.util.Set<String> SETTINGS_KEYS = java.util.Set.of("provider", "domain", "ttl", "maxPerApp", "imageRepository",
      "reapInterval", "sweepInterval");

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

  /**
   * Redeploys a RUNNING, FAILED or BUILDING preview for a new commit (null: each component's configured revision),
   * replacing what ran before; the build jobs of the previous round that have not ended are cancelled.
   */
  Preview redeploy(String previewId, @Nullable String commit);

  /**
   * Tears a preview down (containers, networks, volumes, route, unused images, host slot): records STOPPING, then
   * STOPPED once nothing of it runs. Returns STOPPED, or STOPPING while the tear-down goes on elsewhere or is retried
   * after a failure (its error says why); deleting a STOPPING preview again resumes its tear-down.
   */
  Preview deletePreview(String previewId);

  /** Stored log lines (build and deploy) after {@code afterSeq}, in order. */
  List<LogLine> logs(String previewId, long afterSeq, int limit);

  /** Like {@link BuildOrchestrator#followLogs}: stored lines, then live ones, no gaps or duplicates. */
  AutoCloseable followLogs(String previewId, long afterSeq, Consumer<LogLine> consumer);

  /** Waits until the preview is RUNNING, FAILED or STOPPED (no worker has work on it), at most {@code timeout}. */
  Preview await(String previewId, Duration timeout);

  @Override
  void close();
}
