package dev.byop.preview.ssh;

import org.jspecify.annotations.Nullable;
import dev.byop.preview.ssh.internal.VerifyingHostKeys;
import dev.byop.preview.ssh.internal.WatchedSocket;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import com.hierynomus.sshj.transport.cipher.GcmCiphers;
import net.schmizz.keepalive.KeepAliveProvider;
import net.schmizz.sshj.DefaultConfig;
import net.schmizz.sshj.common.Factory;
import net.schmizz.sshj.transport.cipher.Cipher;
import net.schmizz.sshj.SSHClient;
import net.schmizz.sshj.common.SSHException;
import net.schmizz.sshj.userauth.keyprovider.KeyProvider;
import net.schmizz.sshj.userauth.password.PasswordUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small pool holding one authenticated connection per host, reopened when it died, all closed on {@link #close()}.
 *
 * <pre>{@code
 * try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
 *     SshConnection c = pool.get(new SshHost("10.203.1.2", 22, "byop", SshKey.file(key), HostKeyPolicy.knownHosts(kh)));
 *     c.run(List.of("docker", "info"));
 * }
 * }</pre>
 */
final class SshConnections implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SshConnections.class);

  static {
    // sshj registers BouncyCastle as a JCA provider on first use and then takes every cipher, MAC, digest and key
    // agreement from it. Registering costs about a second in a fresh JVM (the first connection of a process), and BC's
    // pure-Java AES-GCM runs at half the speed of the JDK's, which uses the AES-NI and CLMUL intrinsics: on the test
    // bed 64 MB into `cat` over sshd took ~1150 ms through BC and ~520 ms through SunJCE (scp: ~370 ms). JDK 17 has
    // all that byop negotiates (AES-GCM/CTR, HMAC-SHA2, X25519, ECDH, Ed25519, RSA), so sshj is told not to register
    // it, unless the application registered BC itself (then sshj uses it as before). BC's classes are still used
    // directly where sshj and Ed25519HostKey need them; only chacha20-poly1305, which sshj builds on BC's engine,
    // is no longer offered (AES-GCM is preferred anyway).
    if (java.security.Security.getProvider("BC") == null) {
      net.schmizz.sshj.common.SecurityUtils.setRegisterBouncyCastle(false);
    }
  }

  private final SshOptions options;
  private final Map<String, SshConnection> open = new ConcurrentHashMap<>();
  private final Map<String, Object> locks = new ConcurrentHashMap<>();
  private volatile boolean closed;

  private final @Nullable SocketPreparer prepare;
  private final java.util.concurrent.@Nullable ScheduledExecutorService watchdog;

  /** Readies a fresh socket before it connects (tests bind it to known local ports to cut exactly their own traffic). */
  @FunctionalInterface
  interface SocketPreparer {
    void prepare(java.net.Socket socket) throws IOException;
  }

  SshConnections(SshOptions options) {
    this(options, null);
  }

  SshConnections(SshOptions options, @Nullable SocketPreparer prepare) {
    this.options = options;
    this.prepare = prepare;
    if (options.keepAlive().isZero()) {
      this.watchdog = null;
    } else {
      this.watchdog = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "byop-ssh-watchdog");
        t.setDaemon(true);
        return t;
      });
      long period = Math.max(200, options.keepAlive().toMillis() / 4);
      watchdog.scheduleWithFixedDelay(this::closeDeadLinks, period, period, java.util.concurrent.TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Closes the socket of every connection that received nothing for three keep-alive intervals and a second: a live
   * peer answers each keep-alive, and sshj's own check cannot fire while a transfer has filled the dead socket (see
   * {@link WatchedSocket}). Closing it fails the blocked transfer at once, so the shipper can retry and clean up.
   */
  private void closeDeadLinks() {
    long deadAfter = options.keepAlive().multipliedBy(3).plusSeconds(1).toNanos();
    for (Map.Entry<String, SshConnection> e : open.entrySet()) {
      if (e.getValue().socket() instanceof WatchedSocket w && w.idleNanos() > deadAfter) {
        LOG.warn("no answer from {} for {} ms with keep-alives every {}: the link is dead, closing the connection", e.getKey(),
            w.idleNanos() / 1_000_000, options.keepAlive());
        w.closeQuietly();
        open.remove(e.getKey(), e.getValue());
      }
    }
  }

  /** The options every connection of this pool uses. */
  SshOptions options() {
    return options;
  }

  /** The live connection to {@code host}, opening (or reopening) it when needed. */
  SshConnection get(SshHost host) {
    if (closed) {
      throw new IllegalStateException("ssh connection pool is closed");
    }
    String key = host.label();
    synchronized (locks.computeIfAbsent(key, k -> new Object())) {
      SshConnection c = open.get(key);
      // the same login on the same host under the same host key policy shares the connection (the key object may be
      // rebuilt from configuration each time; it authenticated the same user)
      if (c != null && c.isAlive() && c.host().hostKeys().equals(host.hostKeys())) {
        return c;
      }
      if (c != null) {
        c.disconnect();
        open.remove(key);
      }
      SshConnection fresh = connect(host);
      open.put(key, fresh);
      return fresh;
    }
  }

  /** Drops (and disconnects) the pooled connection to {@code host}, e.g. after a failed transfer. */
  void evict(SshHost host) {
    SshConnection c = open.remove(host.label());
    if (c != null) {
      c.disconnect();
    }
  }

  private SshConnection connect(SshHost host) {
    DefaultConfig cfg = new DefaultConfig();
    // AES-GCM runs on the JDK's AES-NI intrinsics (see the static block: BouncyCastle is not registered, so sshj's
    // GCM cipher is SunJCE's); per byte it is the fastest cipher sshj offers, which dominates image transfers
    List<Factory.Named<Cipher>> ciphers = new ArrayList<>(List.of(GcmCiphers.AES128GCM(), GcmCiphers.AES256GCM()));
    for (Factory.Named<Cipher> c : cfg.getCipherFactories()) {
      if (ciphers.stream().noneMatch(x -> x.getName().equals(c.getName()))) {
        ciphers.add(c);
      }
    }
    cfg.setCipherFactories(ciphers);
    // keepalive@openssh.com requests that expect answers: a dead peer is noticed (and the connection dropped from
    // the pool) instead of sshj's default heartbeat, which only keeps NAT entries warm
    cfg.setKeepAliveProvider(KeepAliveProvider.KEEP_ALIVE);
    SSHClient client = new SSHClient(cfg);
    VerifyingHostKeys verifier;
    try {
      verifier = new VerifyingHostKeys(host.hostKeys());
    } catch (IOException e) {
      throw new SshException("cannot read host keys for " + host.label() + ": " + e.getMessage(), e);
    }
    client.addHostKeyVerifier(verifier);
    client.setConnectTimeout((int) options.connectTimeout().toMillis());
    client.getTransport().setTimeoutMs((int) options.connectTimeout().toMillis());
    client.getConnection().getKeepAlive().setKeepAliveInterval((int) options.keepAlive().toSeconds());
    if (client.getConnection().getKeepAlive() instanceof net.schmizz.keepalive.KeepAliveRunner runner) {
      // a dead link is declared after 3 unanswered keep-alives (sshj's default is 5): 45 s with the default interval
      runner.setMaxAliveCount(3);
    }
    client.setSocketFactory(new javax.net.SocketFactory() {
      // sshj asks for an unconnected socket and connects it itself; the other forms are never used
      @Override
      public java.net.Socket createSocket() throws IOException {
        WatchedSocket s = new WatchedSocket();
        if (prepare != null) {
          prepare.prepare(s);
        }
        return s;
      }

      @Override
      public java.net.Socket createSocket(String h, int p) {
        throw new UnsupportedOperationException("unconnected sockets only");
      }

      @Override
      public java.net.Socket createSocket(String h, int p, java.net.InetAddress la, int lp) {
        throw new UnsupportedOperationException("unconnected sockets only");
      }

      @Override
      public java.net.Socket createSocket(java.net.InetAddress h, int p) {
        throw new UnsupportedOperationException("unconnected sockets only");
      }

      @Override
      public java.net.Socket createSocket(java.net.InetAddress h, int p, java.net.InetAddress la, int lp) {
        throw new UnsupportedOperationException("unconnected sockets only");
      }
    });
    try {
      client.connect(host.address(), host.port());
    } catch (IOException e) {
      closeQuietly(client);
      VerifyingHostKeys.Rejection r = verifier.rejection();
      if (r != null) {
        throw new HostKeyRejectedException(host.label(), r.presented(), r.expected(), r.why());
      }
      throw new SshException("cannot connect to " + host.label() + ": " + e.getMessage(), e);
    }
    try {
      client.authPublickey(host.user(), keyProvider(client, host));
    } catch (IOException e) {
      closeQuietly(client);
      throw new SshException("public key authentication as " + host.user() + " on " + host.label() + " failed: " + e.getMessage(), e);
    }
    LOG.debug("connected to {}", host.label());
    return new SshConnection(host, client, options);
  }

  private static KeyProvider keyProvider(SSHClient client, SshHost host) throws IOException {
    SshKey k = host.key();
    java.nio.file.Path path = k.path();
    if (path != null) {
      java.util.function.Supplier<char[]> passphrase = k.passphrase();
      if (passphrase != null) {
        return client.loadKeys(path.toString(), PasswordUtils.createOneOff(passphrase.get()));
      }
      return client.loadKeys(path.toString());
    }
    java.util.function.Supplier<String> secret = java.util.Objects.requireNonNull(k.secretText(), "key text");
    String text = secret.get();
    if (text == null || text.isBlank()) {
      throw new SSHException("the secret for the private key of " + host.label() + " is empty");
    }
    return client.loadKeys(text, null, null);
  }

  private static void closeQuietly(SSHClient c) {
    try {
      c.close();
    } catch (IOException ignored) {
      // nothing more to release
    }
  }

  /** Closes every pooled connection; safe to call twice. */
  @Override
  public void close() {
    closed = true;
    if (watchdog != null) {
      watchdog.shutdownNow();
    }
    List<SshConnection> all = new ArrayList<>(open.values());
    open.clear();
    for (SshConnection c : all) {
      c.disconnect();
    }
  }

}
