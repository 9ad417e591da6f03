package dev.byop.preview.ssh.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Removes a host's entries from an OpenSSH known_hosts file (as {@code ssh-keygen -R} does), plain or hashed; used
 * when byop deletes an instance, so that the next instance at that address is not refused as a changed key.
 */
public final class KnownHostsEntries {

  private static final Object LOCK = new Object();

  private KnownHostsEntries() {}

  /** The name known_hosts uses for a host: {@code address} on port 22, else {@code [address]:port}. */
  public static String hostName(String address, int port) {
    return port == 22 ? address : "[" + address + "]:" + port;
  }

  /**
   * Drops every line naming the host (markers {@code @cert-authority} and {@code @revoked} are kept); the file is
   * rewritten atomically with its permissions kept.
   *
   * @return how many lines were removed (0 when the file does not exist)
   */
  public static int remove(Path file, String address, int port) throws IOException {
    String name = hostName(address, port);
    synchronized (LOCK) {
      if (!Files.exists(file)) {
        return 0;
      }
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      List<String> kept = new ArrayList<>();
      int removed = 0;
      for (String line : lines) {
        if (names(line, name)) {
          removed++;
        } else {
          kept.add(line);
        }
      }
      if (removed == 0) {
        return 0;
      }
      rewrite(file, kept);
      return removed;
    }
  }

  private static void rewrite(Path file, List<String> lines) throws IOException {
    Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), ".known_hosts", ".tmp");
    try {
      Files.write(tmp, lines, StandardCharsets.UTF_8);
      try {
        Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(file));
      } catch (UnsupportedOperationException ignored) {
        // not a POSIX file system: the temp file's default permissions stand
      }
      try {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Pins {@code publicLine} ({@code <type> <base64>}) for the host: its earlier lines are dropped and this one appended,
   * in one atomic rewrite (the file is created, 0600, when missing).
   */
  public static void pin(Path file, String address, int port, String publicLine) throws IOException {
    if (!publicLine.matches("[a-z0-9@.-]+ [A-Za-z0-9+/]+={0,2}")) {
      throw new IllegalArgumentException("not an OpenSSH public key line: " + publicLine);
    }
    String name = hostName(address, port);
    synchronized (LOCK) {
      Path abs = file.toAbsolutePath();
      if (!Files.exists(abs)) {
        Files.createDirectories(abs.getParent());
        Files.createFile(abs);
        try {
          Files.setPosixFilePermissions(abs, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
          // not a POSIX file system
        }
      }
      List<String> kept = new ArrayList<>();
      for (String line : Files.readAllLines(abs, StandardCharsets.UTF_8)) {
        if (!names(line, name)) {
          kept.add(line);
        }
      }
      kept.add(name + " " + publicLine);
      rewrite(abs, kept);
    }
  }

  /** True when a known_hosts line's host field names {@code name} (a plain list entry or a hashed one). */
  static boolean names(String line, String name) {
    String t = line.strip();
    if (t.isEmpty() || t.startsWith("#") || t.startsWith("@")) {
      return false;
    }
    int sp = t.indexOf(' ');
    String hosts = sp < 0 ? t : t.substring(0, sp);
    if (hosts.startsWith("|1|")) {
      String[] parts = hosts.split("\\|");
      if (parts.length != 4) {
        return false;
      }
      try {
        byte[] salt = Base64.getDecoder().decode(parts[2]);
        byte[] hash = Base64.getDecoder().decode(parts[3]);
        Mac mac = Mac.getInstance("HmacSHA1");
        mac.init(new SecretKeySpec(salt, "HmacSHA1"));
        return MessageDigest.isEqual(hash, mac.doFinal(name.getBytes(StandardCharsets.UTF_8)));
      } catch (IllegalArgumentException | GeneralSecurityException e) {
        return false;
      }
    }
    for (String h : hosts.split(",")) {
      if (h.equals(name)) {
        return true;
      }
    }
    return false;
  }
}
