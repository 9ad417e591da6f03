package dev.byop.preview.ssh.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Rewrites a {@code docker save} archive on the fly, leaving out the layer files the target engine already holds.
 *
 * <p>commons-compress reads and writes the tar stream (ustar + PAX headers as Docker writes them); everything but
 * dropped layer bodies is passed through unchanged, so {@code manifest.json}, the config and {@code repositories}
 * stay intact and moby's loader, which opens a layer file only when that layer chain is missing, accepts it.
 *
 * <p>Docker 20.10 names layer files {@code <v1-id>/layer.tar}, where the v1 id is not the layer's diff id, and writes
 * them in name order before {@code manifest.json}, so the diff id of a layer is only known after its bytes have passed.
 * The filter therefore learns {@code v1-id → diff id} by hashing every layer it sends ({@link #learned}) and skips a
 * layer only when that mapping is already known. Newer engines write OCI layouts ({@code blobs/sha256/<digest>})
 * where an uncompressed layer's digest is its diff id, which is decided directly.
 */
public final class SaveArchiveFilter {

  private static final Pattern LEGACY_LAYER = Pattern.compile("([0-9a-f]{64})/layer\\.tar");
  private static final Pattern OCI_BLOB = Pattern.compile("blobs/sha256/([0-9a-f]{64})");

  /** What happened to the archive's layers. */
  public record Stats(int layers, int skipped, long bytesSkipped) {}

  private final Set<String> remoteDiffIds;
  private final Map<String, String> learned;

  /**
   * @param remoteDiffIds diff ids ({@code sha256:<hex>}) the target holds; empty to send everything
   * @param learned shared map {@code v1-id → sha256:<hex>}, read to decide and updated with every hashed layer
   */
  public SaveArchiveFilter(Set<String> remoteDiffIds, Map<String, String> learned) {
    this.remoteDiffIds = remoteDiffIds;
    this.learned = learned;
  }

  /** Copies {@code in} to {@code out} as a tar stream without the layers to skip; does not close either stream. */
  public Stats copy(InputStream in, OutputStream out) throws IOException {
    int layers = 0;
    int skipped = 0;
    long bytesSkipped = 0;
    TarArchiveInputStream tin = new TarArchiveInputStream(in);
    TarArchiveOutputStream tout = new TarArchiveOutputStream(new NonClosing(out));
    tout.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    tout.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    TarArchiveEntry e;
    byte[] buf = new byte[64 * 1024];
    while ((e = tin.getNextEntry()) != null) {
      String name = e.getName();
      Matcher legacy = LEGACY_LAYER.matcher(name);
      Matcher oci = OCI_BLOB.matcher(name);
      boolean isLayer = e.isFile() && (legacy.matches() || oci.matches());
      if (isLayer) {
        layers++;
        String diffId = legacy.matches() ? learned.get(legacy.group(1)) : "sha256:" + oci.group(1);
        if (diffId != null && remoteDiffIds.contains(diffId)) {
          skipped++;
          bytesSkipped += e.getSize();
          continue; // the tar reader skips the unread body itself
        }
      }
      tout.putArchiveEntry(e);
      if (e.isFile() && e.getSize() > 0) {
        if (isLayer && legacy.matches()) {
          MessageDigest md = sha256();
          try (InputStream din = new DigestInputStream(new NonClosingIn(tin), md)) {
            transfer(din, tout, buf);
          }
          learned.put(legacy.group(1), "sha256:" + HexFormat.of().formatHex(md.digest()));
        } else {
          transfer(tin, tout, buf);
        }
      }
      tout.closeArchiveEntry();
    }
    tout.finish();
    tout.flush();
    return new Stats(layers, skipped, bytesSkipped);
  }

  /** Reads a whole save archive only to learn {@code v1-id → diff id} of its legacy layer files (local, no network). */
  public static void learn(InputStream in, Map<String, String> learned) throws IOException {
    TarArchiveInputStream tin = new TarArchiveInputStream(in);
    TarArchiveEntry e;
    byte[] buf = new byte[64 * 1024];
    while ((e = tin.getNextEntry()) != null) {
      Matcher legacy = LEGACY_LAYER.matcher(e.getName());
      if (e.isFile() && legacy.matches() && !learned.containsKey(legacy.group(1))) {
        MessageDigest md = sha256();
        int n;
        while ((n = tin.read(buf)) > 0) {
          md.update(buf, 0, n);
        }
        learned.put(legacy.group(1), "sha256:" + HexFormat.of().formatHex(md.digest()));
      }
    }
  }

  private static void transfer(InputStream in, OutputStream out, byte[] buf) throws IOException {
    int n;
    while ((n = in.read(buf)) > 0) {
      out.write(buf, 0, n);
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException ex) {
      throw new IllegalStateException(ex);
    }
  }

  private static final class NonClosing extends java.io.FilterOutputStream {
    NonClosing(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
    }

    @Override
    public void close() throws IOException {
      out.flush();
    }
  }

  private static final class NonClosingIn extends java.io.FilterInputStream {
    NonClosingIn(InputStream in) {
      super(in);
    }

    @Override
    public void close() {
      // the tar stream stays open for the next entry
    }
  }
}
