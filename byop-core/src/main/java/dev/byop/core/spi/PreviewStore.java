package dev.byop.core.spi;

import dev.byop.core.Preview;
import dev.byop.core.PreviewStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Previews: creation, claiming deployment and tear-down work with a lease, status changes, expiry, and which cloud host
 * holds a slot for which preview.
 */
public interface PreviewStore {
  /** Persists a new preview in BUILDING, due for work. */
  Preview createPreview(String appId, String deployer, @Nullable String commit, String hostname, Instant now,
      @Nullable Instant expiresAt);

  Optional<Preview> findPreview(String previewId);

  /** The app's previews that are not STOPPED, newest first. */
  List<Preview> listPreviews(String appId);

  /** Every preview that is not STOPPED. */
  List<Preview> listActivePreviews();

  /**
   * Claims a preview in BUILDING, DEPLOYING or STOPPING that no live worker holds (never claimed, or its lease
   * expired), leasing it to {@code workerId} and counting the attempt.
   */
  Optional<Preview> claimPreview(String workerId, Instant now, Duration lease);

  /**
   * Claims this one preview as {@link #claimPreview(String, Instant, Duration)} would (so a delete tears down at once
   * instead of waiting for a free worker); empty when it is not claimable or a live worker holds it. The default
   * claims nothing, which leaves the work to the workers.
   */
  default Optional<Preview> claimPreview(String previewId, String workerId, Instant now, Duration lease) {
    return Optional.empty();
  }

  boolean renewPreviewLease(String previewId, String workerId, Instant now, Duration lease);

  /**
   * Moves a preview between statuses if it is still in {@code from} (and leased to {@code workerId} when given),
   * releasing the lease when it enters BUILDING from another status or from outside (a redeploy, which also forgets
   * the build job links of the previous round),
   * applying the given field updates; RUNNING also records the app's current preview in the same transaction;
   * RUNNING, FAILED and STOPPED release the lease; STOPPING releases it and resets the attempts, so that any worker
   * (or the deleting caller) may claim the tear-down at once.
   */
  Preview transitionPreview(PreviewTransition change);

  /**
   * Creates a PENDING build job for {@code component} of the preview and links it to the preview, in one transaction,
   * only while {@code workerId} holds the preview in BUILDING and the component has no job linked yet in this round
   * (a transition into BUILDING from outside, a redeploy, starts a new round and forgets the links). A job is thus
   * never left without its preview by a crash in between.
   *
   * @return the job, or empty when the preview is no longer held so or the component is linked already
   */
  Optional<dev.byop.core.BuildJob> createPreviewBuildJob(String previewId, String workerId, String component,
      dev.byop.core.BuildConfig config, Instant now);

  /** The build jobs of the preview's current round, by component (empty before its first build is requested). */
  Map<String, String> previewBuildJobs(String previewId);

  /** Previews whose expiry has passed and that are not STOPPED or STOPPING. */
  List<Preview> listExpiredPreviews(Instant now);

  /**
   * Records that cloud host {@code hostId} holds a slot for a preview, replacing an earlier record of that preview, so
   * that after a restart tear-down reaches that host and its capacity is counted. The default keeps nothing (slots are
   * then known only to the running process).
   */
  default void saveHostLease(String previewId, String hostId, Instant now) { }

  /** Forgets the host slot of a preview; safe when there is none. */
  default void deleteHostLease(String previewId) { }

  /** Every recorded host slot: preview id to host id. */
  default Map<String, String> hostLeases() {
    return Map.of();
  }

  /**
   * @param previewId the preview
   * @param workerId the lease holder that must still hold it, or null
   * @param from the expected status
   * @param to the new status
   * @param now the time of the change
   * @param host the host, or null to keep
   * @param address the address, or null to keep
   * @param url the URL, or null to keep
   * @param images the images per component, or null to keep
   * @param error the failure reason, or null
   * @param commit the commit to build from now on (a redeploy), or null to keep
   */
  record PreviewTransition(String previewId, @Nullable String workerId, PreviewStatus from, PreviewStatus to,
      Instant now, @Nullable String host, @Nullable String address, @Nullable String url,
      @Nullable Map<String, String> images, @Nullable String error, @Nullable String commit) {
    /** Without a commit change (the form before {@code commit} was added). */
    public PreviewTransition(String previewId, @Nullable String workerId, PreviewStatus from, PreviewStatus to,
        Instant now, @Nullable String host, @Nullable String address, @Nullable String url,
        @Nullable Map<String, String> images, @Nullable String error) {
      this(previewId, workerId, from, to, now, host, address, url, images, error, null);
    }

    public static PreviewTransition of(String previewId, @Nullable String workerId, PreviewStatus from,
        PreviewStatus to, Instant now) {
      return new PreviewTransition(previewId, workerId, from, to, now, null, null, null, null, null, null);
    }

    public PreviewTransition withError(@Nullable String why) {
      return new PreviewTransition(previewId, workerId, from, to, now, host, address, url, images, why, commit);
    }

    public PreviewTransition withImages(Map<String, String> newImages) {
      return new PreviewTransition(previewId, workerId, from, to, now, host, address, url, newImages, error, commit);
    }

    public PreviewTransition withLocation(String newHost, String newAddress, String newUrl) {
      return new PreviewTransition(previewId, workerId, from, to, now, newHost, newAddress, newUrl, images, error,
          commit);
    }

    public PreviewTransition withCommit(@Nullable String newCommit) {
      return new PreviewTransition(previewId, workerId, from, to, now, host, address, url, images, error, newCommit);
    }
  }
}
