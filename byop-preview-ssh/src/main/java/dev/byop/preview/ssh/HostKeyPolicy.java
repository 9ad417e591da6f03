package dev.byop.preview.ssh;

import org.jspecify.annotations.Nullable;
import dev.byop.core.ValidationException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How a host's SSH key is verified; there is deliberately no "accept anything" policy.
 *
 * @param knownHosts an OpenSSH known_hosts file, or null when a fingerprint is pinned
 * @param fingerprint a pinned {@code SHA256:…} fingerprint (as printed by {@code ssh-keygen -lf}), or null
 * @param acceptNew when true and the known_hosts file has no entry for the host, the presented key is
 *     recorded there and accepted (OpenSSH's {@code StrictHostKeyChecking=accept-new}); a changed key is
 *     still refused
 */
public record HostKeyPolicy(@Nullable Path knownHosts, @Nullable String fingerprint, boolean acceptNew) {

  public HostKeyPolicy {
    if ((knownHosts == null) == (fingerprint == null)) {
      throw new ValidationException("hostKeyFingerprint", null, "exactly one of a known_hosts file or a pinned fingerprint is needed");
    }
    if (fingerprint != null) {
      fingerprint = normalizeFingerprint(fingerprint);
    }
    if (acceptNew && knownHosts == null) {
      throw new ValidationException("acceptNewHostKey", true, "needs a known_hosts file to record the new key in");
    }
  }

  /** Verify against entries of an OpenSSH known_hosts file; unknown hosts are refused. */
  public static HostKeyPolicy knownHosts(Path file) {
    return new HostKeyPolicy(Objects.requireNonNull(file, "file"), null, false);
  }

  /** Verify against a known_hosts file, recording (and trusting) the key of a host that has no entry yet. */
  public static HostKeyPolicy acceptNew(Path file) {
    return new HostKeyPolicy(Objects.requireNonNull(file, "file"), null, true);
  }

  /** Verify against one pinned SHA-256 fingerprint, {@code SHA256:<base64>} (the prefix may be omitted). */
  public static HostKeyPolicy fingerprint(String sha256) {
    return new HostKeyPolicy(null, Objects.requireNonNull(sha256, "sha256"), false);
  }

  static String normalizeFingerprint(String fp) {
    String s = fp.strip();
    if (s.regionMatches(true, 0, "SHA256:", 0, 7)) {
      s = s.substring(7);
    }
    while (s.endsWith("=")) {
      s = s.substring(0, s.length() - 1);
    }
    if (!s.matches("[A-Za-z0-9+/]{43}")) {
      throw new ValidationException("hostKeyFingerprint", fp, "must be a SHA256 fingerprint (SHA256: followed by 43 base64 characters)");
    }
    return "SHA256:" + s;
  }
}
