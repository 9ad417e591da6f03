package dev.byop.core.spi;

import dev.byop.core.SecretRef;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Finds or provisions a host to run a remote preview on, and releases it afterwards (the seed's
 * {@code FindAvailablePreviewVPS() / ProvisionVPS()}).
 *
 * <p>Which host holds which preview outlives the process: {@code Byop} wraps every provider with
 * {@link #recording(CloudProvider, PreviewStore)}, which records each lease in the store and hands the recorded ones
 * to {@link #restore(Map)} when it opens the provider.
 */
public interface CloudProvider extends AutoCloseable {

  /**
   * Called once, before any other use, with the slots the store recorded (preview id to host id) so that a provider
   * that keeps leases in memory counts them again and finds their hosts for tear-down. The default ignores them.
   *
   * @return the preview ids whose host this provider no longer knows (left out of its accounting)
   */
  default java.util.Set<String> restore(Map<String, String> leases) {
    return java.util.Set.of();
  }

  /**
   * The provider with every lease recorded in {@code store} as it is acquired and forgotten as it is released; the
   * recorded leases are restored into it now. The store is not closed with it.
   */
  static CloudProvider recording(CloudProvider provider, PreviewStore store) {
    return dev.byop.core.internal.RecordingCloudProvider.wrap(provider, store);
  }

  /**
   * Reserves capacity for one preview on a host, waiting up to {@code wait} for a slot or a new instance.
   *
   * @throws dev.byop.core.PreviewException when no host has room within the wait
   */
  HostLease acquire(String previewId, Duration wait);

  /** Returns the slot (or deletes the instance) held for a preview; safe to call twice. */
  void release(String previewId);

  /** The hosts this provider knows and how many previews each holds. */
  List<HostStatus> hosts();

  @Override
  void close();

  /**
   * How to reach a host over SSH. Exactly one of {@code knownHosts} or {@code hostKeyFingerprint} pins its key
   * (both may be given); {@code acceptNewHostKey} is only for hosts just provisioned.
   *
   * @param id the provider's id for the host (instance id or configured name)
   * @param address IP or DNS name
   * @param port SSH port
   * @param user SSH user
   * @param privateKey the private key
   * @param hostKeyFingerprint pinned host key, {@code SHA256:…}, or null
   * @param knownHosts path of a known_hosts file, or null
   * @param acceptNewHostKey trust a first-seen key and record it
   * @param attributes provider-specific facts (region, flavor, docker host)
   */
  record RemoteHost(String id, String address, int port, String user, SecretRef privateKey,
      @Nullable String hostKeyFingerprint, @Nullable String knownHosts, boolean acceptNewHostKey,
      Map<String, String> attributes) {
    @Override
    public String toString() {
      return "RemoteHost[" + id + " " + user + "@" + address + ":" + port + "]";
    }
  }

  /** A reserved slot on a host for one preview. */
  record HostLease(String previewId, RemoteHost host) {}

  /** A host and its use. */
  record HostStatus(RemoteHost host, int capacity, List<String> previews) {}
}
