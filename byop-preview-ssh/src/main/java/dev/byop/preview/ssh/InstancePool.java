package dev.byop.preview.ssh;

import dev.byop.core.PreviewException;
import dev.byop.core.internal.Redactor;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.CloudProvider.HostLease;
import dev.byop.core.spi.CloudProvider.HostStatus;
import dev.byop.core.spi.CloudProvider.RemoteHost;
import dev.byop.preview.ssh.internal.Ed25519HostKey;
import dev.byop.preview.ssh.internal.KnownHostsEntries;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What OVH and Hetzner Cloud share: instances byop made, found again by its marker only, each taking
 * {@link Provisioning#capacity()} previews, at most {@link Provisioning#maxInstances()} of them; a new one is
 * created (at most one per idempotency token) with a host key byop made for it in its user data, waited for until
 * ACTIVE, its key pinned in known_hosts for its address, then waited for until its SSH port answers, then checked
 * ready over SSH (a host presenting another key is refused and deleted); an empty one is deleted after {@link Provisioning#idleTimeout()}, and its known_hosts entry with it.
 */
final class InstancePool implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(InstancePool.class);
  private static final SecureRandom TOKENS = new SecureRandom();

  /** Waits until a TCP port answers with an SSH banner, or raises {@link HostNotReadyException}. */
  @FunctionalInterface
  interface PortProbe {
    void await(String label, String address, int port, Duration timeout);
  }

  private static final class Held {
    final RemoteHost host;
    @Nullable Instant idleSince;

    Held(RemoteHost host, @Nullable Instant idleSince) {
      this.host = host;
      this.idleSince = idleSince;
    }
  }

  private final CloudInstances api;
  private final Provisioning s;
  private final HostReadiness readiness;
  private final PortProbe probe;
  private final Redactor redactor;
  private final Clock clock;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final Map<String, Held> instances = new LinkedHashMap<>();
  private final Map<String, Held> leases = new LinkedHashMap<>();
  /** Instances being made by this process: counted against the cap; their ids once the create answered. */
  private int pending;
  private final Set<String> pendingIds = new HashSet<>();
  private boolean adopted;
  private boolean closed;
  private final @Nullable ScheduledExecutorService reaper;

  InstancePool(CloudInstances api, Provisioning settings, HostReadiness readiness, PortProbe probe, Redactor redactor, Clock clock) {
    this.api = api;
    this.s = settings;
    this.readiness = readiness;
    this.probe = probe;
    this.redactor = redactor;
    this.clock = clock;
    if (settings.idleTimeout().isZero()) {
      this.reaper = null;
    } else {
      this.reaper = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "byop-" + api.provider() + "-idle");
        t.setDaemon(true);
        return t;
      });
      long period = Math.max(1000, Math.min(60_000, settings.idleTimeout().toMillis() / 4));
      reaper.scheduleWithFixedDelay(this::reapQuietly, period, period, TimeUnit.MILLISECONDS);
    }
  }

  /** True when the instance carries this installation's marker: never by name alone. */
  boolean ours(CloudInstances.Instance i) {
    return s.owner().equals(i.owner()) && i.token() != null;
  }

  /** The instances carrying byop's marker, as the provider lists them now. */
  List<CloudInstances.Instance> marked() {
    List<CloudInstances.Instance> out = new ArrayList<>();
    for (CloudInstances.Instance i : api.list()) {
      if (ours(i)) {
        out.add(i);
      }
    }
    return out;
  }

  Set<String> restore(Map<String, String> recorded) {
    lock.lock();
    try {
      adoptLocked();
      Set<String> unknown = new LinkedHashSet<>();
      recorded.forEach((preview, hostId) -> {
        Held h = instances.get(hostId);
        if (h == null) {
          unknown.add(preview);
        } else {
          leases.put(preview, h);
          h.idleSince = null;
        }
      });
      return unknown;
    } finally {
      lock.unlock();
    }
  }

  /** Takes up the ACTIVE instances with byop's marker (empty ones idle from now); adopted hosts need their pinned key. */
  private @Nullable List<CloudInstances.Instance> adoptLocked() {
    if (adopted) {
      return null;
    }
    List<CloudInstances.Instance> seen = marked();
    for (CloudInstances.Instance i : seen) {
      if (i.state() == CloudInstances.State.ACTIVE && i.ipv4() != null && !instances.containsKey(i.id())) {
        instances.put(i.id(), new Held(host(i, false), clock.instant()));
        LOG.info("adopted {} instance {} ({}): it carries byop's marker for owner {}", api.provider(), i.id(), i.name(), s.owner());
      }
    }
    adopted = true;
    return seen;
  }

  HostLease acquire(String previewId, Duration wait) {
    if (!previewId.matches("[A-Za-z0-9_-]+")) {
      throw new PreviewException("preview id '" + previewId + "' is not usable: letters, digits, '_' and '-' only");
    }
    long deadline = System.nanoTime() + wait.toNanos();
    lock.lock();
    try {
      while (true) {
        if (closed) {
          throw new PreviewException(api.provider() + " cloud provider is closed");
        }
        Held held = leases.get(previewId);
        if (held != null) {
          return new HostLease(previewId, held.host);
        }
        @Nullable List<CloudInstances.Instance> seen = adoptLocked();
        for (Held h : instances.values()) {
          if (used(h) < s.capacity()) {
            leases.put(previewId, h);
            h.idleSince = null;
            return new HostLease(previewId, h.host);
          }
        }
        Set<String> counted = new HashSet<>(instances.keySet());
        // the cloud's own count: instances of an earlier run still being made, or another process with this owner
        for (CloudInstances.Instance i : seen != null ? seen : marked()) {
          counted.add(i.id());
        }
        counted.addAll(pendingIds);
        int count = counted.size() + pending - pendingIds.size();
        if (count < s.maxInstances()) {
          pending++;
          break;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new CloudCapException(api.provider(), previewId, count, s.maxInstances(), wait.toString());
        }
        changed.awaitNanos(Math.min(left, TimeUnit.SECONDS.toNanos(5)));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PreviewException("interrupted while waiting for a host for preview " + previewId, e);
    } finally {
      lock.unlock();
    }
    Held made;
    try {
      made = provision(previewId);
    } catch (RuntimeException e) {
      lock.lock();
      try {
        pending--;
        changed.signalAll();
      } finally {
        lock.unlock();
      }
      throw e;
    }
    lock.lock();
    try {
      pending--;
      instances.put(made.host.id(), made);
      leases.put(previewId, made);
      changed.signalAll();
      return new HostLease(previewId, made.host);
    } finally {
      lock.unlock();
    }
  }

  private Held provision(String previewId) {
    String token = HexFormat.of().formatHex(randomBytes());
    // a host key made here for this instance alone, pinned before the first login; only #cloud-config can carry it
    @Nullable Ed25519HostKey key = CloudUserData.canPin(s.userData()) ? Ed25519HostKey.generate() : null;
    @Nullable String userData = s.userData();
    if (key != null) {
      api.hide(key.privatePem());
      redactor.add(key.privatePem());
      userData = CloudUserData.withHostKey(userData, key);
    } else {
      LOG.warn("the {} user data is not #cloud-config, so byop cannot hand the instance for preview {} a host key to pin: its "
          + "first key is accepted (accept-new, cloud.acceptNewHostKey) and only that one afterwards", api.provider(), previewId);
    }
    CloudInstances.Instance i = api.create(token, userData);
    if (!i.id().matches("[A-Za-z0-9-]+")) {
      throw new PreviewException(api.provider() + " returned no usable instance id for preview " + previewId);
    }
    LOG.info("created {} instance {} ({}) for preview {}", api.provider(), i.id(), i.name(), previewId);
    lock.lock();
    try {
      pendingIds.add(i.id());
    } finally {
      lock.unlock();
    }
    @Nullable String address = null;
    try {
      i = awaitActive(i, previewId);
      address = i.ipv4();
      RemoteHost first = host(i, key == null);
      if (key != null) {
        // any line left for the address (an instance deleted while byop was down) is replaced by this host's own key
        pinHostKey(i.id(), address, key);
      } else {
        // the address is new to us: a line left for it (an instance deleted while byop was down) is not this host's
        forgetHostKey(i.id(), address);
      }
      probe.await(i.id(), address, s.sshPort(), s.sshTimeout());
      readiness.await(first, s.bootstrapTimeout());
      return new Held(host(i, false), null);
    } catch (RuntimeException e) {
      deleteQuietly(i.id(), address);
      throw e;
    } finally {
      lock.lock();
      try {
        pendingIds.remove(i.id());
      } finally {
        lock.unlock();
      }
    }
  }

  private static byte[] randomBytes() {
    byte[] b = new byte[8];
    TOKENS.nextBytes(b);
    return b;
  }

  private CloudInstances.Instance awaitActive(CloudInstances.Instance created, String previewId) {
    long deadline = System.nanoTime() + s.readyTimeout().toNanos();
    CloudInstances.Instance i = created;
    while (i.state() != CloudInstances.State.ACTIVE || i.ipv4() == null) {
      if (i.state() == CloudInstances.State.ERROR) {
        throw new PreviewException(api.provider() + " instance " + i.id() + " for preview " + previewId + " went to ERROR"
            + (i.attributes().containsKey("error") ? " (" + redactor.redact(i.attributes().get("error")) + ")" : ""));
      }
      if (System.nanoTime() > deadline) {
        throw new PreviewException(api.provider() + " instance " + i.id() + " for preview " + previewId + " not ACTIVE within "
            + s.readyTimeout() + " (last state " + i.state() + (i.ipv4() == null ? ", no public IPv4" : "") + ")");
      }
      sleep(s.pollInterval());
      String id = i.id();
      i = api.get(id).orElseThrow(() -> new PreviewException(api.provider() + " instance " + id + " for preview " + previewId
          + " vanished while it was being made"));
    }
    return i;
  }

  private RemoteHost host(CloudInstances.Instance i, boolean acceptNew) {
    Map<String, String> attrs = new LinkedHashMap<>(i.attributes());
    attrs.put("provider", api.provider());
    attrs.put("name", i.name());
    return new RemoteHost(i.id(), i.ipv4(), s.sshPort(), s.user(), s.privateKey(), null, s.knownHosts(), acceptNew, Map.copyOf(attrs));
  }

  private int used(Held h) {
    int n = 0;
    for (Held l : leases.values()) {
      if (l == h) {
        n++;
      }
    }
    return n;
  }

  void release(String previewId) {
    List<Held> now = new ArrayList<>();
    lock.lock();
    try {
      Held h = leases.remove(previewId);
      if (h == null) {
        return;
      }
      if (used(h) == 0) {
        h.idleSince = clock.instant();
        if (s.idleTimeout().isZero()) {
          instances.remove(h.host.id());
          now.add(h);
        }
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    for (Held h : now) {
      try {
        delete(h, "its last preview " + previewId + " is gone");
      } catch (RuntimeException e) {
        // the instance may still exist: it stays counted (the cap) and empty, and the idle sweep deletes it later
        keep(h);
        throw e;
      }
    }
  }

  /** Puts back an instance whose delete failed, empty since now. */
  private void keep(Held h) {
    lock.lock();
    try {
      h.idleSince = clock.instant();
      instances.putIfAbsent(h.host.id(), h);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Deletes the instances that have been empty for the idle time; returns their ids. */
  List<String> reapIdle() {
    List<Held> due = new ArrayList<>();
    lock.lock();
    try {
      Instant now = clock.instant();
      for (var it = instances.values().iterator(); it.hasNext(); ) {
        Held h = it.next();
        if (h.idleSince != null && used(h) == 0 && !Duration.between(h.idleSince, now).minus(s.idleTimeout()).isNegative()) {
          it.remove();
          due.add(h);
        }
      }
    } finally {
      lock.unlock();
    }
    List<String> out = new ArrayList<>();
    for (Held h : due) {
      try {
        delete(h, "empty for " + s.idleTimeout());
        out.add(h.host.id());
      } catch (RuntimeException e) {
        LOG.warn("could not delete idle {} instance {}; trying again later: {}", api.provider(), h.host.id(),
            redactor.redact(String.valueOf(e.getMessage())));
        lock.lock();
        try {
          instances.putIfAbsent(h.host.id(), h);
        } finally {
          lock.unlock();
        }
      }
    }
    return out;
  }

  private void reapQuietly() {
    try {
      reapIdle();
    } catch (RuntimeException e) {
      LOG.warn("idle {} instance sweep failed: {}", api.provider(), redactor.redact(String.valueOf(e.getMessage())));
    }
  }

  private void delete(Held h, String why) {
    api.delete(h.host.id());
    LOG.info("deleted {} instance {}: {}", api.provider(), h.host.id(), why);
    forgetHostKey(h.host.id(), h.host.address());
  }

  private void deleteQuietly(String id, @Nullable String address) {
    try {
      api.delete(id);
      LOG.info("deleted {} instance {} that did not become ready", api.provider(), id);
      if (address != null) {
        forgetHostKey(id, address);
      }
    } catch (RuntimeException e) {
      LOG.warn("could not delete {} instance {}: {}", api.provider(), id, redactor.redact(String.valueOf(e.getMessage())));
    }
  }

  private void pinHostKey(String id, String address, Ed25519HostKey key) {
    try {
      KnownHostsEntries.pin(Path.of(s.knownHosts()), address, s.sshPort(), key.publicLine());
      LOG.info("pinned host key {} of {} instance {} ({}) in {}", key.fingerprint(), api.provider(), id,
          KnownHostsEntries.hostName(address, s.sshPort()), s.knownHosts());
    } catch (IOException e) {
      throw new PreviewException("could not pin the host key of " + api.provider() + " instance " + id + " in " + s.knownHosts()
          + ": " + e.getMessage(), e);
    }
  }

  private void forgetHostKey(String id, String address) {
    try {
      int n = KnownHostsEntries.remove(Path.of(s.knownHosts()), address, s.sshPort());
      if (n > 0) {
        LOG.info("removed {} known_hosts line(s) of {} (instance {}) from {}", n, KnownHostsEntries.hostName(address, s.sshPort()), id,
            s.knownHosts());
      }
    } catch (IOException e) {
      LOG.warn("could not remove the known_hosts entry of {} from {}: {}", address, s.knownHosts(), e.getMessage());
    }
  }

  List<HostStatus> hosts() {
    lock.lock();
    try {
      List<HostStatus> out = new ArrayList<>();
      for (Held h : instances.values()) {
        List<String> previews = new ArrayList<>();
        leases.forEach((p, l) -> {
          if (l == h) {
            previews.add(p);
          }
        });
        out.add(new HostStatus(h.host, s.capacity(), List.copyOf(previews)));
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
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    if (reaper != null) {
      reaper.shutdownNow();
    }
  }

  /** Waits between polls of the provider: {@link Provisioning#pollInterval()} is seconds on purpose (rate limits). */
  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PreviewException("interrupted while waiting for an instance", e);
    }
  }

  /** The real probe: a TCP connect that reads {@code SSH-} before the deadline, polled every half second. */
  static void awaitSshBanner(String label, String address, int port, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "nothing tried";
    while (true) {
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        throw new HostNotReadyException(label + " (" + address + ":" + port + ")", List.of("ssh"),
            "port " + port + " gave no SSH banner within " + timeout + ", last: " + last);
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(address, port), (int) Math.max(1, Math.min(2000, left)));
        socket.setSoTimeout((int) Math.max(1, Math.min(2000, left)));
        String banner = firstLine(socket.getInputStream());
        if (banner.startsWith("SSH-")) {
          return;
        }
        last = "answered without an SSH banner";
      } catch (IOException e) {
        last = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage());
      }
      long pause = Math.min(500, Math.max(0, (deadline - System.nanoTime()) / 1_000_000));
      if (pause > 0) {
        sleep(Duration.ofMillis(pause));
      }
    }
  }

  private static String firstLine(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    int c;
    while (b.length() < 255 && (c = in.read()) >= 0 && c != '\n') {
      b.append((char) c);
    }
    return b.toString().strip();
  }
}
