package dev.byop.core;

import java.time.Instant;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A preview environment as stored.
 *
 * @param id the preview id
 * @param appId the app
 * @param status the current status
 * @param deployer the id of the deployer that runs it ({@code local}, {@code ssh}, …)
 * @param commit the commit (or ref) it was built from, or null for each component's configured revision
 * @param hostname the DNS name routed to it, e.g. {@code shop-p3k9.byop.local}
 * @param host where it runs: {@code byop.local} locally, else the cloud host id
 * @param address the address of that host, e.g. {@code 127.0.0.1}
 * @param url the URL that answers when it is RUNNING
 * @param images the image each component runs, by component name
 * @param createdAt when it was requested
 * @param updatedAt when it last changed
 * @param expiresAt when the reaper tears it down, or null for never
 * @param attempt how many times a worker has claimed its current deployment
 * @param error why it failed, or null
 */
public record Preview(String id, String appId, PreviewStatus status, String deployer, @Nullable String commit,
    @Nullable String hostname, @Nullable String host, @Nullable String address, @Nullable String url,
    Map<String, String> images, Instant createdAt, Instant updatedAt, @Nullable Instant expiresAt, int attempt,
    @Nullable String error) {

  public Preview {
    images = images == null ? Map.of() : Map.copyOf(images);
  }
}
