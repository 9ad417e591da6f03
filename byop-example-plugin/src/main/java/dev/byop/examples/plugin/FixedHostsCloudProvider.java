package dev.byop.examples.plugin;

import dev.byop.core.PreviewException;
import dev.byop.core.spi.CloudProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A cloud provider over a fixed list of hosts, each with a number of preview slots: {@link #acquire} takes a slot on
 * the least loaded host (waiting for one to free up), {@link #release} gives it back. Nothing is provisioned.
 */
public final class FixedHostsCloudProvider implements CloudProvider {

  /** A host and how many previews it may hold at once. */
  record Slot(RemoteHost host, int capacity) {}

  private final List<Slot> slots;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition freed = lock.newCondition();
  // host id -> preview ids holding a slot there, in order of arrival
  private final Map<String, Set<String>> held = new LinkedHashMap<>();
  private boolean closed;

  FixedHostsCloudProvider(List<Slot> slots) {
    this.slots = List.copyOf(slots);
    for (Slot s : slots) held.put(s.host().id(), new LinkedHashSet<>());
  }

  @Override
  public HostLease acquire(String previewId, Duration wait) {
    long deadline = System.nanoTime() + wait.toNanos();
    lock.lock();
    try {
      while (true) {
        if (closed) throw new PreviewException("cloud provider " + FixedHostsCloudProviderFactory.ID + " is closed");
        // The same preview asking again (a retried worker) keeps its slot instead of taking a second one.
        for (Slot s : slots) {
          if (held.get(s.host().id()).contains(previewId)) return new HostLease(previewId, s.host());
        }
        Slot best = slots.stream()
            .filter(s -> held.get(s.host().id()).size() < s.capacity())
            .min(Comparator.comparingDouble(this::load))
            .orElse(null);
        if (best != null) {
          held.get(best.host().id()).add(previewId);
          return new HostLease(previewId, best.host());
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new PreviewException("no host has a free preview slot for preview '" + previewId + "' after "
              + wait + " (" + usage() + ")");
        }
        freed.await(left, TimeUnit.NANOSECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PreviewException("interrupted while waiting for a preview slot for '" + previewId + "'", e);
    } finally {
      lock.unlock();
    }
  }

  /** The share of a host's slots in use; the least loaded host gets the next preview. */
  private double load(Slot s) {
    double used = held.get(s.host().id()).size();
    return used / s.capacity();
  }

  @Override
  public void release(String previewId) {
    lock.lock();
    try {
      boolean removed = false;
      for (Set<String> previews : held.values()) removed |= previews.remove(previewId);
      if (removed) freed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public List<HostStatus> hosts() {
    lock.lock();
    try {
      List<HostStatus> out = new ArrayList<>();
      for (Slot s : slots) out.add(new HostStatus(s.host(), s.capacity(), List.copyOf(held.get(s.host().id()))));
      return out;
    } finally {
      lock.unlock();
    }
  }

  private String usage() {
    StringBuilder b = new StringBuilder();
    for (Slot s : slots) {
      if (b.length() > 0) b.append(", ");
      b.append(s.host().id()).append(' ').append(held.get(s.host().id()).size()).append('/').append(s.capacity());
    }
    return b.toString();
  }

  /** Wakes every waiting {@link #acquire}, which then fails; safe to call twice. */
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
}
