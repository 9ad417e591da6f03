package dev.byop.preview.ssh.internal;

import org.jspecify.annotations.Nullable;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.util.Base64;
import net.schmizz.sshj.common.Buffer;

/** OpenSSH-style {@code SHA256:} fingerprints of host keys (sshj's own helper only produces MD5 ones). */
public final class Fingerprints {

  private Fingerprints() {}

  /** Fingerprint of a public key, as {@code ssh-keygen -l} prints it. */
  public static String sha256(PublicKey key) {
    byte[] blob = new Buffer.PlainBuffer().putPublicKey(key).getCompactData();
    return sha256(blob);
  }

  /** Fingerprint of an SSH wire-format public key blob. */
  public static String sha256(byte[] keyBlob) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(keyBlob);
      return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }

  /** Fingerprint of the key in one known_hosts line ({@code hosts type base64 [comment]}), or null when unparsable. */
  public static @Nullable String ofKnownHostsLine(String line) {
    String[] f = line.strip().split("\\s+");
    int i = f.length > 0 && f[0].startsWith("@") ? 1 : 0; // @cert-authority / @revoked marker
    if (f.length < i + 3) {
      return null;
    }
    try {
      return sha256(Base64.getDecoder().decode(f[i + 2]));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
