package dev.byop.preview.ssh.internal;

import dev.byop.core.Secret;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.generators.Ed25519KeyPairGenerator;
import org.bouncycastle.crypto.params.Ed25519KeyGenerationParameters;
import org.bouncycastle.crypto.util.OpenSSHPrivateKeyUtil;
import org.bouncycastle.crypto.util.OpenSSHPublicKeyUtil;

/**
 * A fresh ed25519 SSH host key pair for one instance byop creates: the private half goes to the instance in its
 * cloud-init user data ({@code ssh_keys.ed25519_private}), the public half is pinned in known_hosts before the first
 * login, so the host is verified from its very first connection instead of trusted on first use.
 *
 * <p>Made with BouncyCastle (already on the classpath through sshj) rather than by running {@code ssh-keygen}: no
 * subprocess, no temporary file holding a private key, and BouncyCastle writes the OpenSSH private key format
 * ({@code openssh-key-v1}) that sshd reads. The private half is a {@link Secret}: {@code toString} never shows it.
 */
public final class Ed25519HostKey {

  private static final SecureRandom RANDOM = new SecureRandom();

  private final String publicLine;
  private final Secret privatePem;
  private final String fingerprint;

  private Ed25519HostKey(String publicLine, Secret privatePem, String fingerprint) {
    this.publicLine = publicLine;
    this.privatePem = privatePem;
    this.fingerprint = fingerprint;
  }

  /** A new key pair from a {@link SecureRandom}. */
  public static Ed25519HostKey generate() {
    Ed25519KeyPairGenerator g = new Ed25519KeyPairGenerator();
    g.init(new Ed25519KeyGenerationParameters(RANDOM));
    AsymmetricCipherKeyPair pair = g.generateKeyPair();
    byte[] blob;
    byte[] priv;
    try {
      blob = OpenSSHPublicKeyUtil.encodePublicKey(pair.getPublic());
      priv = OpenSSHPrivateKeyUtil.encodePrivateKey(pair.getPrivate());
    } catch (java.io.IOException e) {
      // in-memory encoding of a key BouncyCastle just made: cannot happen for ed25519
      throw new IllegalStateException("cannot encode an ed25519 key: " + e.getMessage());
    }
    String body = Base64.getMimeEncoder(70, new byte[] {'\n'}).encodeToString(priv);
    String pem = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + body + "\n-----END OPENSSH PRIVATE KEY-----\n";
    return new Ed25519HostKey("ssh-ed25519 " + Base64.getEncoder().encodeToString(blob), Secret.of(pem), sha256(blob));
  }

  private static String sha256(byte[] blob) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(blob);
      return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }

  /** {@code ssh-ed25519 <base64>}, as a known_hosts line or {@code ssh_keys.ed25519_public} takes it. */
  public String publicLine() {
    return publicLine;
  }

  /** The private key in OpenSSH's PEM-armoured format; only ever for the user data sent to the provider. */
  public Secret privatePem() {
    return privatePem;
  }

  /** {@code SHA256:<base64>} of the public key, as {@code ssh-keygen -lf} prints it. */
  public String fingerprint() {
    return fingerprint;
  }

  @Override
  public String toString() {
    return "ed25519 host key " + fingerprint;
  }
}
