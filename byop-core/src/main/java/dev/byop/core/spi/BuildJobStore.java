package dev.byop.core.spi;

import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/** Build jobs: creation, claiming with a lease, status changes, recovery of expired leases. */
public interface BuildJobStore {
  /** Persists a new PENDING job. */
  BuildJob createBuildJob(String appId, String component, BuildConfig config, Instant now);

  Optional<BuildJob> findBuildJob(String jobId);

  /** The app's jobs, newest first. */
  List<BuildJob> listBuildJobs(String appId, int limit);

  /**
   * Claims the oldest PENDING job whose (app, component) has no running job and no older PENDING job, moving it to
   * FETCHING with a lease for {@code workerId}: builds of one component run one at a time in request order, the
   * components of one app in parallel; safe when several workers and processes claim at once.
   */
  Optional<BuildJob> claimBuildJob(String workerId, Instant now, Duration lease);

  /** Extends a lease; false when the worker no longer holds the job (expired and taken, or cancelled). */
  boolean renewBuildLease(String jobId, String workerId, Instant now, Duration lease);

  /**
   * Moves a job from {@code change.from()} to {@code change.to()} if it is still there (and still leased to
   * {@code change.workerId()} when given); on SUCCESS also sets the app's current image in the same transaction,
   * unless the job is a preview's (created by {@link PreviewStore#createPreviewBuildJob}).
   *
   * @throws dev.byop.core.IllegalTransitionException when the state machine forbids the move
   * @throws dev.byop.core.StoreException when the job is no longer in {@code from} or no longer held by the worker
   */
  BuildJob transitionBuildJob(BuildTransition change);

  /**
   * Returns running jobs whose lease ended before {@code now} to PENDING for another attempt, or ends them FAILED
   * when they have had {@code maxAttempts}; also fails PENDING jobs that can never run.
   *
   * @return the jobs changed
   */
  List<BuildJob> recoverExpiredBuildJobs(Instant now, int maxAttempts);

  /**
   * How many jobs are in {@code status} across every instance sharing this store (e.g. the queue depth for
   * {@code PENDING}), or empty when this store cannot count cheaply; read by metrics on each scrape.
   */
  default java.util.OptionalLong countBuildJobs(BuildStatus status) {
    return java.util.OptionalLong.empty();
  }

  /**
   * A status change of one job.
   *
   * @param jobId the job
   * @param workerId the lease holder that must still hold it, or null for changes from outside (cancel)
   * @param from the expected current status
   * @param to the new status
   * @param now the time recorded for the new status
   * @param commit the resolved commit, or null to keep
   * @param image the image reference, or null to keep
   * @param digest the digest, or null to keep
   * @param error the failure reason, or null
   */
  record BuildTransition(String jobId, @Nullable String workerId, BuildStatus from, BuildStatus to, Instant now,
      @Nullable String commit, @Nullable String image, @Nullable String digest, @Nullable String error) {
    public static BuildTransition of(String jobId, @Nullable String workerId, BuildStatus from, BuildStatus to,
        Instant now) {
      return new BuildTransition(jobId, workerId, from, to, now, null, null, null, null);
    }

    public BuildTransition withError(String why) {
      return new BuildTransition(jobId, workerId, from, to, now, commit, image, digest, why);
    }

    public BuildTransition withResult(@Nullable String newCommit, @Nullable String newImage, @Nullable String newDigest) {
      return new BuildTransition(jobId, workerId, from, to, now, newCommit, newImage, newDigest, error);
    }
  }
}
