package dev.byop.core.spi;

/**
 * What a provider gets with each unit of work: the id of the job or preview it serves, where its log lines go, and
 * whether it has been cancelled.
 *
 * @param ownerId the build job or preview id
 * @param log the log of that job or preview
 * @param cancellation cancellation of that work
 */
public record JobContext(String ownerId, LogSink log, Cancellation cancellation) {
  /** For tests and one-off calls: no cancellation. */
  public static JobContext of(String ownerId, LogSink log) {
    return new JobContext(ownerId, log, Cancellation.none());
  }
}
