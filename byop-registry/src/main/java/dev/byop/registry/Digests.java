package dev.byop.registry;

import dev.byop.core.ValidationException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** Content digests ({@code sha256:<hex>}) as the registry computes them. */
public final class Digests {
  private static final Pattern SHA256 = Pattern.compile("sha256:[a-f0-9]{64}");
  private static final Pattern ANY = Pattern.compile("[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}");

  private Digests() {}

  /** The sha256 digest of the bytes. */
  public static String sha256(byte[] content) {
    return format(newSha256().digest(content));
  }

  /** A fresh SHA-256 instance, for digesting a stream as it passes. */
  public static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }

  /** {@code sha256:} and the lowercase hex of a finished SHA-256. */
  public static String format(byte[] sha256) {
    return "sha256:" + HexFormat.of().formatHex(sha256);
  }

  /** Validates a digest; throws naming the value and the rule. */
  public static String check(String digest) {
    if (digest == null || !ANY.matcher(digest).matches()) {
      throw new ValidationException("digest", digest, "must be algorithm:hex, e.g. sha256:<64 hex>");
    }
    if (digest.startsWith("sha256:") && !SHA256.matcher(digest).matches()) {
      throw new ValidationException("digest", digest, "must be sha256: and 64 lowercase hex characters");
    }
    return digest;
  }
}
