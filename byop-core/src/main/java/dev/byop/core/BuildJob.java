package dev.byop.core;

import java.time.Instant;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A build job as stored: what is built, where it stands, and what came of it.
 *
 * @param id the job id
 * @param appId the app
 * @param component the component built
 * @param config the request
 * @param status the current status
 * @param statusTimes when each status was entered
 * @param attempt how many times a worker has claimed it (1 on the first run)
 * @param leaseOwner the worker holding it, or null
 * @param leaseExpiresAt when the holder's lease ends, or null
 * @param commit the commit actually built, once fetched
 * @param image the image reference built (and pushed), once known
 * @param digest the manifest digest in the registry (or the image id when kept local), once known
 * @param error why it failed, or null
 */
public record BuildJob(String id, String appId, String component, BuildConfig config, BuildStatus status,
    Map<BuildStatus, Instant> statusTimes, int attempt, @Nullable String leaseOwner, @Nullable Instant leaseExpiresAt,
    @Nullable String commit, @Nullable String image, @Nullable String digest, @Nullable String error) {

  public BuildJob {
    EnumMap<BuildStatus, Instant> copy = new EnumMap<>(BuildStatus.class);
    copy.putAll(statusTimes);
    statusTimes = Collections.unmodifiableMap(copy);
  }

  public Instant createdAt() {
    return statusTimes.get(BuildStatus.PENDING);
  }

  /** When the current status was entered. */
  public @Nullable Instant statusTime() {
    return statusTimes.get(status);
  }
}
