package dev.byop.core.internal;

import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.PreviewStore;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link CloudProvider} whose leases are written to the preview store, so that a restart finds the host of every
 * preview (tear-down reaches it) and counts its slot (capacity is not exceeded).
 */
public final class RecordingCloudProvider implements CloudProvider {
  private static final Logger LOG = LoggerFactory.getLogger(RecordingCloudProvider.class);

  private final CloudProvider delegate;
  private final PreviewStore store;

  private RecordingCloudProvider(CloudProvider delegate, PreviewStore store) {
    this.delegate = delegate;
    this.store = store;
  }

  /** Restores the recorded leases into {@code provider} and wraps it; an already wrapped provider is returned as is. */
  public static CloudProvider wrap(CloudProvider provider, PreviewStore store) {
    if (provider instanceof RecordingCloudProvider r) return r;
    Map<String, String> recorded = store.hostLeases();
    Set<String> unknown = provider.restore(recorded);
    if (!recorded.isEmpty()) {
      LOG.info("restored {} host lease(s) from the store{}", recorded.size() - unknown.size(),
          unknown.isEmpty() ? "" : "; hosts no longer configured for previews " + unknown);
    }
    return new RecordingCloudProvider(provider, store);
  }

  @Override
  public HostLease acquire(String previewId, Duration wait) {
    HostLease lease = delegate.acquire(previewId, wait);
    try {
      // recorded before anything runs on the host: a crash from here on leaves a lease that tear-down can follow
      store.saveHostLease(previewId, lease.host().id(), Instant.now());
    } catch (RuntimeException e) {
      delegate.release(previewId);
      throw e;
    }
    return lease;
  }

  @Override
  public void release(String previewId) {
    delegate.release(previewId);
    store.deleteHostLease(previewId);
  }

  @Override
  public List<HostStatus> hosts() {
    return delegate.hosts();
  }

  @Override
  public Set<String> restore(Map<String, String> leases) {
    return delegate.restore(leases);
  }

  @Override
  public void close() {
    delegate.close();
  }
}
