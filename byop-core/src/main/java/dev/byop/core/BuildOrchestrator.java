package dev.byop.core;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * Runs the Build &amp; Push workflow: {@link #requestBuild} persists a PENDING job and returns at once; workers claim
 * jobs with a renewed lease and move them through FETCHING, BUILDING, PUSHING to SUCCESS (updating the app's current
 * image) or FAILED. Builds of one component run one at a time in request order; the components of one app, and
 * other apps, build in parallel within the worker limit. A preview's components are built as such jobs too
 * (their SUCCESS does not change the app's current image).
 */
public interface BuildOrchestrator extends AutoCloseable {
  /** Persists a PENDING job for the app's component and returns it (the seed's HTTP 202). */
  BuildJob requestBuild(String appId, BuildConfig config);

  /** The job as stored; {@link NotFoundException} when unknown. */
  BuildJob job(String jobId);

  /** The app's jobs, newest first. */
  List<BuildJob> jobs(String appId, int limit);

  /** Cancels a job: PENDING ends CANCELLED at once; a running one is stopped on the builder and ends CANCELLED. */
  BuildJob cancel(String jobId);

  /** Stored log lines after {@code afterSeq}, in order. */
  List<LogLine> logs(String jobId, long afterSeq, int limit);

  /**
   * Delivers every log line after {@code afterSeq}: first those already stored, then new ones as they are written,
   * without gaps or duplicates, until the job ends or the returned handle is closed.
   */
  AutoCloseable followLogs(String jobId, long afterSeq, Consumer<LogLine> consumer);

  /** Waits until the job reaches SUCCESS, FAILED or CANCELLED, at most {@code timeout}; returns it as stored. */
  BuildJob await(String jobId, Duration timeout);

  /** Stops the workers; running jobs keep their status and are recovered by another instance after the lease. */
  @Override
  void close();
}
