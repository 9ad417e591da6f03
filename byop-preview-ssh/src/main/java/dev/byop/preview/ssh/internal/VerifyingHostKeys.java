package dev.byop.preview.ssh.internal;

import org.jspecify.annotations.Nullable;
import dev.byop.preview.ssh.HostKeyPolicy;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import net.schmizz.sshj.common.KeyType;
import net.schmizz.sshj.transport.verification.HostKeyVerifier;
import net.schmizz.sshj.transport.verification.OpenSSHKnownHosts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Host key verifier for one connection attempt that remembers why it refused, so the caller can raise a
 * typed error naming the host and both fingerprints instead of sshj's generic transport error.
 */
public final class VerifyingHostKeys implements HostKeyVerifier {

  private static final Logger LOG = LoggerFactory.getLogger(VerifyingHostKeys.class);

  private final HostKeyPolicy policy;
  private final OpenSSHKnownHosts knownHosts;
  private volatile @Nullable Rejection rejection;

  /** Why a key was refused: presented and expected fingerprints. */
  public record Rejection(String presented, List<String> expected, String why) {}

  public VerifyingHostKeys(HostKeyPolicy policy) throws IOException {
    this.policy = policy;
    if (policy.knownHosts() != null) {
      File f = policy.knownHosts().toFile();
      if (!f.exists()) {
        if (!policy.acceptNew()) {
          throw new IOException("known_hosts file " + f + " does not exist");
        }
        if (f.getParentFile() != null) {
          Files.createDirectories(f.getParentFile().toPath());
        }
        Files.createFile(f.toPath());
      }
      this.knownHosts = new Recording(f);
    } else {
      this.knownHosts = null;
    }
  }

  /** The reason of the last refusal, or null. */
  public @Nullable Rejection rejection() {
    return rejection;
  }

  @Override
  public boolean verify(String hostname, int port, PublicKey key) {
    String presented = Fingerprints.sha256(key);
    if (knownHosts == null) {
      if (policy.fingerprint().equals(presented)) {
        return true;
      }
      rejection = new Rejection(presented, List.of(policy.fingerprint()), "does not match the pinned fingerprint");
      return false;
    }
    return knownHosts.verify(hostname, port, key);
  }

  @Override
  public List<String> findExistingAlgorithms(String hostname, int port) {
    return knownHosts == null ? List.of() : knownHosts.findExistingAlgorithms(hostname, port);
  }

  /** Known hosts that records mismatches and, for accept-new, appends unknown hosts. */
  private final class Recording extends OpenSSHKnownHosts {

    Recording(File f) throws IOException {
      super(f);
    }

    @Override
    protected boolean hostKeyUnverifiableAction(String hostname, PublicKey key) {
      String presented = Fingerprints.sha256(key);
      KeyType type = KeyType.fromKey(key);
      List<String> recorded = expectedFor(hostname);
      if (!recorded.isEmpty()) {
        // sshj lands here when the host is known but only under other key types. OpenSSH's accept-new treats
        // that as a changed key as well: trusting it would let whoever answers with a fresh key type take over
        rejection = new Rejection(presented, recorded, hostname + " now presents a " + type + " key " + presented
            + " but " + khFile + " holds only " + String.join(", ", recorded) + " for it: the host key changed");
        return false;
      }
      if (policy.acceptNew()) {
        try {
          KnownHostEntry e = new HostEntry(null, hostname, type, key);
          entries.add(e);
          write(e);
          LOG.info("recorded new host key {} for {} in {}", presented, hostname, khFile);
          return true;
        } catch (IOException e) {
          rejection = new Rejection(presented, List.of(), "could not record the new key in " + khFile + ": " + e.getMessage());
          return false;
        }
      }
      rejection = new Rejection(presented, List.of(), "host " + hostname + " (" + type + " key) has no entry in " + khFile);
      return false;
    }

    @Override
    protected boolean hostKeyChangedAction(String hostname, PublicKey key) {
      rejection = new Rejection(Fingerprints.sha256(key), expectedFor(hostname), KeyType.fromKey(key) + " key differs from the one recorded in "
          + khFile);
      return false;
    }

    private List<String> expectedFor(String hostname) {
      List<String> out = new ArrayList<>();
      for (KnownHostEntry e : entries) {
        try {
          if (e.appliesTo(hostname)) {
            String fp = Fingerprints.ofKnownHostsLine(e.getLine());
            if (fp != null) {
              out.add(e.getType() + " " + fp);
            }
          }
        } catch (IOException | RuntimeException ignored) {
          // an unparsable line cannot be an expectation
        }
      }
      return out;
    }
  }
}
