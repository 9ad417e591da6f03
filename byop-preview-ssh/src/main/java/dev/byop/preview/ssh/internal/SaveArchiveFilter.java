package dev.byop.preview.ssh.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.jspecify.annotations.Nullable;

/**
 * Rewrites a {@code docker save} archive on the fly, leaving out the layer files the target engine already holds.
 *
 * <p>commons-compress reads and writes the tar stream (ustar + PAX headers as Docker writes them); everything but
 * dropped layer bodies is passed through unchanged, so {@code manifest.json}, the configs and the OCI index stay
 * intact and the loader, which opens a layer file only when that layer is missing, accepts it.
 *
 * <p>Which file holds which layer is decided by the archive's Docker {@code manifest.json} (written by every engine,
 * beside the OCI layout of newer ones): its {@code Layers[i]} is the file of the config's {@code rootfs.diff_ids[i]}.
 * Docker 20.10 names layer files {@code <v1-id>/layer.tar}, where the v1 id is not the diff id; Docker 25+ writes
 * {@code blobs/sha256/<digest>}, where the digest is the diff id only for an uncompressed layer (classic store) and
 * not for the gzip blobs of the containerd store. Both engines write the layer files before {@code manifest.json}, so
 * a file's diff id is only known once its bytes have passed: the filter learns {@code file key → diff id} from every
 * archive it reads ({@link #learned}; the key is the v1 id or the blob digest) and leaves a layer out only when that
 * mapping is already known, or when an OCI blob's own digest is a diff id the target holds.
 */
public final class SaveArchiveFilter {

  private static final Pattern LEGACY_LAYER = Pattern.compile("([0-9a-f]{64})/layer\\.tar");
  private static final Pattern OCI_BLOB = Pattern.compile("blobs/sha256/([0-9a-f]{64})");
  private static final Pattern DIFF_ID = Pattern.compile("sha256:[0-9a-f]{64}");
  /** Configs and manifests are kilobytes; a larger file is a layer and is never buffered. */
  private static final long MAX_METADATA = 1 << 20;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What happened to the archive's layers. */
  public record Stats(int layers, int skipped, long bytesSkipped) {}

  private final Set<String> remoteDiffIds;
  private final Map<String, String> learned;

  /**
   * @param remoteDiffIds diff ids ({@code sha256:<hex>}) the target holds; empty to send everything
   * @param learned shared map {@code file key → sha256:<hex>}, read to decide and updated from each archive's manifest
   */
  public SaveArchiveFilter(Set<String> remoteDiffIds, Map<String, String> learned) {
    this.remoteDiffIds = remoteDiffIds;
    this.learned = learned;
  }

  /** The key a layer file is known by ({@code <v1-id>} or the blob digest's hex), or null for other entries. */
  static @Nullable String layerKey(String name) {
    Matcher legacy = LEGACY_LAYER.matcher(name);
    if (legacy.matches()) {
      return legacy.group(1);
    }
    Matcher oci = OCI_BLOB.matcher(name);
    return oci.matches() ? oci.group(1) : null;
  }

  /** Copies {@code in} to {@code out} as a tar stream without the layers to skip; does not close either stream. */
  public Stats copy(InputStream in, OutputStream out) throws IOException {
    int layerFiles = 0;
    int skipped = 0;
    long bytesSkipped = 0;
    Metadata meta = new Metadata();
    TarArchiveInputStream tin = new TarArchiveInputStream(in);
    TarArchiveOutputStream tout = new TarArchiveOutputStream(new NonClosing(out));
    tout.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    tout.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    TarArchiveEntry e;
    byte[] buf = new byte[64 * 1024];
    while ((e = tin.getNextEntry()) != null) {
      String name = e.getName();
      String key = e.isFile() ? layerKey(name) : null;
      if (key != null && name.endsWith("/layer.tar")) {
        layerFiles++;
      }
      if (key != null) {
        String diffId = learned.get(key);
        boolean held = diffId != null ? remoteDiffIds.contains(diffId)
            : name.startsWith("blobs/") && remoteDiffIds.contains("sha256:" + key);
        if (held) {
          skipped++;
          bytesSkipped += e.getSize();
          continue; // the tar reader skips the unread body itself
        }
      }
      tout.putArchiveEntry(e);
      if (e.isFile() && e.getSize() > 0) {
        if (e.getSize() <= MAX_METADATA) {
          byte[] body = tin.readAllBytes();
          tout.write(body);
          meta.offer(name, body);
        } else {
          transfer(tin, tout, buf);
        }
      }
      tout.closeArchiveEntry();
    }
    tout.finish();
    tout.flush();
    int layers = meta.learnInto(learned);
    // without a manifest (not seen from any engine) only legacy layer files can be counted
    return new Stats(layers > 0 ? layers : layerFiles, skipped, bytesSkipped);
  }

  /**
   * Reads a whole save archive only to learn which file holds which diff id (local, no network); layer bodies are
   * skipped unread.
   */
  public static void learn(InputStream in, Map<String, String> learned) throws IOException {
    Metadata meta = new Metadata();
    TarArchiveInputStream tin = new TarArchiveInputStream(in);
    TarArchiveEntry e;
    while ((e = tin.getNextEntry()) != null) {
      if (e.isFile() && e.getSize() > 0 && e.getSize() <= MAX_METADATA) {
        meta.offer(e.getName(), tin.readAllBytes());
      }
    }
    meta.learnInto(learned);
  }

  /**
   * The small JSON files of one archive: configs by file name, and the Docker manifest. Non-JSON or foreign JSON is
   * ignored; an archive without a usable manifest teaches nothing (its layers are then just sent).
   */
  private static final class Metadata {
    private final Map<String, List<String>> diffIdsByConfig = new HashMap<>();
    private @Nullable JsonNode manifest;

    void offer(String name, byte[] body) {
      int i = 0;
      while (i < body.length && Character.isWhitespace(body[i])) {
        i++;
      }
      if (i == body.length || (body[i] != '{' && body[i] != '[')) {
        return;
      }
      JsonNode n;
      try {
        n = JSON.readTree(body);
      } catch (IOException notJson) {
        return;
      }
      if (name.equals("manifest.json") && n.isArray()) {
        manifest = n;
        return;
      }
      JsonNode ids = n.path("rootfs").path("diff_ids");
      if (ids.isArray()) {
        List<String> l = new ArrayList<>();
        ids.forEach(d -> l.add(d.asText()));
        diffIdsByConfig.put(name, l);
      }
    }

    /** Adds {@code layer file key → diff id} for every manifest entry; returns how many layers the first entry has. */
    int learnInto(Map<String, String> learned) {
      if (manifest == null) {
        return 0;
      }
      int first = -1;
      for (JsonNode entry : manifest) {
        List<String> diffIds = diffIdsByConfig.get(entry.path("Config").asText());
        JsonNode files = entry.path("Layers");
        if (diffIds == null || !files.isArray() || files.size() != diffIds.size()) {
          continue;
        }
        for (int i = 0; i < diffIds.size(); i++) {
          String key = layerKey(files.get(i).asText());
          if (key != null && DIFF_ID.matcher(diffIds.get(i)).matches()) {
            learned.put(key, diffIds.get(i));
          }
        }
        if (first < 0) {
          first = diffIds.size();
        }
      }
      return Math.max(first, 0);
    }
  }

  private static void transfer(InputStream in, OutputStream out, byte[] buf) throws IOException {
    int n;
    while ((n = in.read(buf)) > 0) {
      out.write(buf, 0, n);
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
}
