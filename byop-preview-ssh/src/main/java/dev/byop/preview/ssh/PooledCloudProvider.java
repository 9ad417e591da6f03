package dev.byop.preview.ssh;

import dev.byop.core.spi.CloudProvider;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A cloud provider whose every method is its {@link InstancePool}'s: what OVH and Hetzner Cloud share. */
abstract class PooledCloudProvider implements CloudProvider {

  final InstancePool pool;

  PooledCloudProvider(InstancePool pool) {
    this.pool = pool;
  }

  /** The instances carrying this installation's marker, as the provider lists them now. */
  List<CloudInstances.Instance> ownInstances() {
    return pool.marked();
  }

  /** Adopts the ACTIVE instances carrying byop's marker and puts the recorded previews back on them. */
  @Override
  public Set<String> restore(Map<String, String> recorded) {
    return pool.restore(recorded);
  }

  @Override
  public HostLease acquire(String previewId, Duration wait) {
    return pool.acquire(previewId, wait);
  }

  @Override
  public void release(String previewId) {
    pool.release(previewId);
  }

  /** Deletes the instances empty for the idle time now (a timer does it as well); returns their ids. */
  public List<String> reapIdle() {
    return pool.reapIdle();
  }

  @Override
  public List<HostStatus> hosts() {
    return pool.hosts();
  }

  @Override
  public void close() {
    // instances outlive the process on purpose: running previews keep their hosts; idle ones are reaped by the next
    pool.close();
  }
}
