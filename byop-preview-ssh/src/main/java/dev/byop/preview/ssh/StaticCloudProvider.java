package dev.byop.preview.ssh;

import org.jspecify.annotations.Nullable;
import dev.byop.core.PreviewException;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.CloudProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed pool of hosts from configuration, each with a capacity in previews; acquiring waits for a free slot.
 *
 * <p>Leases are kept in memory; those the store recorded before a restart come back through {@link #restore(Map)} (or
 * the constructor), so their slots count and their hosts are found for tear-down.
 *
 * <pre>{@code
 * CloudProvider pool = new StaticCloudProvider(List.of(new StaticCloudProvider.PoolHost(host1, 2)), Map.of());
 * HostLease lease = pool.acquire("p-42", Duration.ofMinutes(1));
 * }</pre>
 */
public final class StaticCloudProvider implements CloudProvider {

  /** One configured host and how many previews it may run at once. */
  public record PoolHost(RemoteHost host, int capacity) {
    public PoolHost {
      Objects.requireNonNull(host, "host");
      if (capacity < 1) {
        throw new ValidationException("hosts[" + host.id() + "].capacity", capacity, "must be at least 1");
      }
    }
  }

  private final List<PoolHost> hosts;
  private final Map<String, PoolHost> leases = new LinkedHashMap<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition freed = lock.newCondition();
  private boolean closed;

  /**
   * @param hosts the pool, in order of preference
   * @param deployed previews already running, preview id → host id
   */
  public StaticCloudProvider(List<PoolHost> hosts, Map<String, String> deployed) {
    if (hosts.isEmpty()) {
      throw new ValidationException("cloud.hosts", null, "a static host pool needs at least one host");
    }
    this.hosts = List.copyOf(hosts);
    Map<String, PoolHost> byId = new LinkedHashMap<>();
    for (PoolHost h : hosts) {
      if (byId.put(h.host().id(), h) != null) {
        throw new ValidationException("hosts.id", h.host().id(), "appears twice in the static pool");
      }
    }
    deployed.forEach((preview, hostId) -> {
      PoolHost h = byId.get(hostId);
      if (h == null) {
        throw new ValidationException("preview " + preview + " host", hostId, "is not in the pool " + byId.keySet());
      }
      leases.put(preview, h);
    });
  }

  /**
   * Counts the slots the store recorded before a restart; a lease on a host no longer in the pool is left out (and
   * returned) so that it cannot block capacity.
   */
  @Override
  public java.util.Set<String> restore(Map<String, String> recorded) {
    java.util.Set<String> unknown = new java.util.LinkedHashSet<>();
    lock.lock();
    try {
      recorded.forEach((preview, hostId) -> {
        PoolHost h = hosts.stream().filter(x -> x.host().id().equals(hostId)).findFirst().orElse(null);
        if (h == null) {
          unknown.add(preview);
        } else {
          leases.put(preview, h);
        }
      });
    } finally {
      lock.unlock();
    }
    return unknown;
  }

  @Override
  public HostLease acquire(String previewId, Duration wait) {
    Objects.requireNonNull(previewId, "previewId");
    long deadline = System.nanoTime() + wait.toNanos();
    lock.lock();
    try {
      while (true) {
        if (closed) {
          throw new PreviewException("static host pool is closed");
        }
        PoolHost existing = leases.get(previewId);
        if (existing != null) {
          return new HostLease(previewId, existing.host()); // a redeploy keeps its host
        }
        @Nullable PoolHost best = null;
        int bestUsed = Integer.MAX_VALUE;
        for (PoolHost h : hosts) {
          int used = used(h);
          // least loaded relative to capacity first, then configuration order
          if (used < h.capacity() && (best == null || used * best.capacity() < bestUsed * h.capacity())) {
            best = h;
            bestUsed = used;
          }
        }
        if (best != null) {
          leases.put(previewId, best);
          return new HostLease(previewId, best.host());
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new PreviewException("no host of the static pool has a free slot for preview " + previewId + " within " + wait
              + ": " + describe());
        }
        freed.awaitNanos(left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PreviewException("interrupted while waiting for a host for preview " + previewId, e);
    } finally {
      lock.unlock();
    }
  }

  private int used(PoolHost h) {
    int n = 0;
    for (PoolHost l : leases.values()) {
      if (l == h) {
        n++;
      }
    }
    return n;
  }

  private String describe() {
    List<String> parts = new ArrayList<>();
    for (HostStatus s : hosts()) {
      parts.add(s.host().id() + " " + s.previews().size() + "/" + s.capacity() + " " + s.previews());
    }
    return String.join(", ", parts);
  }

  @Override
  public void release(String previewId) {
    lock.lock();
    try {
      if (leases.remove(previewId) != null) {
        freed.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public List<HostStatus> hosts() {
    lock.lock();
    try {
      List<HostStatus> out = new ArrayList<>();
      for (PoolHost h : hosts) {
        List<String> previews = new ArrayList<>();
        leases.forEach((p, l) -> {
          if (l == h) {
            previews.add(p);
          }
        });
        out.add(new HostStatus(h.host(), h.capacity(), List.copyOf(previews)));
      }
      return out;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      freed.signalAll();
    } finally {
      lock.unlock();
    }
  }


  /** True while some caller waits for a slot (for tests and monitoring). */
  boolean lockHasWaiters() {
    lock.lock();
    try {
      return lock.hasWaiters(freed);
    } finally {
      lock.unlock();
    }
  }
}
