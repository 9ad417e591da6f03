package dev.byop.preview.ssh;

import org.jspecify.annotations.Nullable;
import dev.byop.core.SecretRef;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The private key a host is logged into with: a key file, or key text resolved from a secret reference.
 *
 * <p>The key text is fetched only when a connection is opened and never kept, printed or logged.
 */
public final class SshKey {

  private final @Nullable Path file;
  private final @Nullable Supplier<String> secret;
  private final @Nullable Supplier<char[]> passphrase;

  private SshKey(@Nullable Path file, @Nullable Supplier<String> secret, @Nullable Supplier<char[]> passphrase) {
    this.file = file;
    this.secret = secret;
    this.passphrase = passphrase;
  }

  /** A private key file in OpenSSH or PEM format, not encrypted. */
  public static SshKey file(Path file) {
    return new SshKey(Objects.requireNonNull(file, "file"), null, null);
  }

  /** A private key file protected by a passphrase. */
  public static SshKey file(Path file, Supplier<char[]> passphrase) {
    return new SshKey(Objects.requireNonNull(file, "file"), null, Objects.requireNonNull(passphrase, "passphrase"));
  }

  /** A private key whose text comes from a secret store when needed (e.g. a secret reference resolver). */
  public static SshKey secret(Supplier<String> privateKeyText) {
    return new SshKey(null, Objects.requireNonNull(privateKeyText, "privateKeyText"), null);
  }

  /** A private key held in a secret reference ({@code {env: …}} or {@code {file: …}}), resolved at each connect. */
  public static SshKey secret(SecretRef ref) {
    Objects.requireNonNull(ref, "ref");
    return new SshKey(null, () -> ref.resolve().reveal(), null);
  }

  /** The key file, or null for a secret key. */
  public @Nullable Path path() {
    return file;
  }

  /** Supplier of the key text, or null for a file key. */
  public @Nullable Supplier<String> secretText() {
    return secret;
  }

  /** Supplier of the passphrase, or null. */
  public @Nullable Supplier<char[]> passphrase() {
    return passphrase;
  }

  @Override
  public String toString() {
    return file != null ? "SshKey[file=" + file + "]" : "SshKey[secret]";
  }
}
