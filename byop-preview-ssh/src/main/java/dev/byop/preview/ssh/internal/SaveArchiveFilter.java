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
 * mapping is already known, or when an OCI blob's own digest is a diff id the target holds. A 20.10 archive is the
 * exception: each layer directory's {@code json} comes before its {@code layer.tar}, and with the image's diff ids
 * (from the engine's inspect) it names the layer by its v1 id ({@link #v1Id}), so one pass suffices.
 *
 * <p>A containerd-store target refuses a 20.10 archive without its layer files ({@code layer "…/layer.tar" not found}:
 * it resolves Docker manifest layers by file), but takes an OCI layout whose missing blobs it holds. For such a
 * target ({@link #toOciLayout}) a 20.10 archive is rewritten into an OCI layout on the fly: each {@code layer.tar}
 * becomes {@code blobs/sha256/<diff id>} (an uncompressed layer's digest is its diff id, so every layer file must be
 * known: named from its json, or {@link #learn} first), the config {@code blobs/sha256/<its digest>}, and after the Docker manifest an OCI
 * image manifest, {@code index.json} naming each tag, a Docker {@code manifest.json} over the blobs and
 * {@code oci-layout}; v1 metadata and {@code repositories} are dropped. Archives that are already OCI layouts pass
 * through as they are.
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
  private final boolean toOciLayout;
  /** The image's diff ids, lowest first (from the engine's inspect), to name 20.10 layer files before their bodies. */
  private final List<String> imageDiffIds;

  /**
   * @param remoteDiffIds diff ids ({@code sha256:<hex>}) the target holds; empty to send everything
   * @param learned shared map {@code file key → sha256:<hex>}, read to decide and updated from each archive's manifest
   */
  public SaveArchiveFilter(Set<String> remoteDiffIds, Map<String, String> learned) {
    this(remoteDiffIds, learned, false);
  }

  /** @param toOciLayout rewrite a 20.10 archive into an OCI layout (for a containerd-store target) */
  public SaveArchiveFilter(Set<String> remoteDiffIds, Map<String, String> learned, boolean toOciLayout) {
    this(remoteDiffIds, learned, toOciLayout, List.of());
  }

  /**
   * @param imageDiffIds the diff ids of the image being saved, lowest first: a 20.10 archive's layer files are then
   *     named while streaming ({@link #v1Id}), so that a held layer is left out without a learning pass first
   */
  public SaveArchiveFilter(Set<String> remoteDiffIds, Map<String, String> learned, boolean toOciLayout, List<String> imageDiffIds) {
    this.remoteDiffIds = remoteDiffIds;
    this.learned = learned;
    this.toOciLayout = toOciLayout;
    this.imageDiffIds = List.copyOf(imageDiffIds);
  }

  /** The chain ids of {@code diffIds} (the OCI image spec's ChainID: sha256 of "parent-chain child-diff"). */
  static List<String> chainIds(List<String> diffIds) {
    List<String> chain = new ArrayList<>();
    String prev = null;
    for (String d : diffIds) {
      prev = prev == null ? d : "sha256:" + hex((prev + " " + d).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      chain.add(prev);
    }
    return chain;
  }

  /**
   * Names a 20.10 layer directory from its {@code <v1-id>/json}, which the archive holds before {@code layer.tar}
   * (its entries come in name order): Docker 20.10 derives the v1 id ({@code image/v1.CreateID}) as the sha256 of
   * that json without {@code id}, with {@code parent} as a digest and {@code layer_id} set to the layer's chain id,
   * marshalled by Go as a map (keys sorted, values as they are; a lower layer's json gains {@code os} only after). Trying each chain id of the image finds the layer's
   * position, so its diff id, before its body passes. Hand-written because it reproduces Go's encoding byte for
   * byte, which no JSON library promises; a json that does not match teaches nothing (the layer is then sent).
   *
   * @return the diff id, or null
   */
  static @Nullable String v1Id(String dirHex, byte[] json, List<String> diffIds) {
    Map<String, String> fields = topLevelFields(json);
    if (fields == null || diffIds.isEmpty()) {
      return null;
    }
    fields.remove("id");
    String parent = fields.get("parent");
    if (parent != null) {
      if (!parent.matches("\"[0-9a-f]{64}\"")) {
        return null;
      }
      fields.put("parent", "\"sha256:" + parent.substring(1));
    }
    List<String> chain = chainIds(diffIds);
    // 20.10 sets "os" on a lower layer's json after deriving its id (the top layer's json had it from the config)
    Map<String, String> withoutOs = new HashMap<>(fields);
    withoutOs.remove("os");
    for (Map<String, String> f : fields.containsKey("os") ? List.of(fields, withoutOs) : List.of(fields)) {
      for (int i = 0; i < chain.size(); i++) {
        f.put("layer_id", "\"" + chain.get(i) + "\"");
        StringBuilder b = new StringBuilder("{");
        new java.util.TreeMap<>(f).forEach((k, v) -> b.append(b.length() > 1 ? "," : "").append('"').append(k).append("\":").append(v));
        b.append('}');
        if (hex(b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)).equals(dirHex)) {
          return diffIds.get(i);
        }
      }
    }
    return null;
  }

  /**
   * The members of a JSON object, each value as its raw text; null when {@code json} is not an object or a key has
   * escapes (Go writes plain ASCII keys here). Values keep their exact bytes, which re-serialising would not.
   */
  static @Nullable Map<String, String> topLevelFields(byte[] json) {
    String s = new String(json, java.nio.charset.StandardCharsets.UTF_8);
    int n = s.length();
    int i = skipWs(s, 0);
    if (i >= n || s.charAt(i) != '{') {
      return null;
    }
    Map<String, String> out = new HashMap<>();
    i = skipWs(s, i + 1);
    if (i < n && s.charAt(i) == '}') {
      return out;
    }
    while (i < n) {
      if (s.charAt(i) != '"') {
        return null;
      }
      int k = s.indexOf('"', i + 1);
      if (k < 0) {
        return null;
      }
      String key = s.substring(i + 1, k);
      if (key.indexOf('\\') >= 0) {
        return null;
      }
      i = skipWs(s, k + 1);
      if (i >= n || s.charAt(i) != ':') {
        return null;
      }
      i = skipWs(s, i + 1);
      int start = i;
      int depth = 0;
      boolean str = false;
      for (; i < n; i++) {
        char c = s.charAt(i);
        if (str) {
          if (c == '\\') {
            i++;
          } else if (c == '"') {
            str = false;
          }
        } else if (c == '"') {
          str = true;
        } else if (c == '{' || c == '[') {
          depth++;
        } else if (c == '}' || c == ']') {
          if (depth == 0) {
            break;
          }
          depth--;
        } else if (c == ',' && depth == 0) {
          break;
        }
      }
      if (i >= n) {
        return null;
      }
      out.put(key, s.substring(start, i).strip());
      if (s.charAt(i) == '}') {
        return out;
      }
      i = skipWs(s, i + 1);
    }
    return null;
  }

  private static int skipWs(String s, int i) {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
      i++;
    }
    return i;
  }

  /** A 20.10 layer directory's json: learns which diff id its layer.tar holds. */
  private void nameLegacyLayer(String name, byte[] body) {
    Matcher m = LEGACY_JSON.matcher(name);
    if (m.matches() && !imageDiffIds.isEmpty() && !learned.containsKey(m.group(1))) {
      String diffId = v1Id(m.group(1), body, imageDiffIds);
      if (diffId != null) {
        learned.put(m.group(1), diffId);
      }
    }
  }

  private static final Pattern LEGACY_JSON = Pattern.compile("([0-9a-f]{64})/json");

  /** A layer file of a 20.10 archive whose diff id is not known yet, met while rewriting it into an OCI layout. */
  public static final class UnknownLayerException extends IOException {
    private static final long serialVersionUID = 1L;

    UnknownLayerException(String name) {
      super("the diff id of '" + name + "' is not known: learn the archive first");
    }
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
    @Nullable OciRewrite oci = null;
    boolean ociLayout = false;
    while ((e = tin.getNextEntry()) != null) {
      String name = e.getName();
      String key = e.isFile() ? layerKey(name) : null;
      if (key != null && name.endsWith("/layer.tar")) {
        layerFiles++;
      }
      if (name.startsWith("blobs/") || name.equals("oci-layout") || name.equals("index.json")) {
        ociLayout = true; // already an OCI layout: passed through
      }
      if (toOciLayout && !ociLayout && (oci != null || LEGACY_ENTRY.matcher(name).matches())) {
        if (oci == null) {
          oci = new OciRewrite();
        }
        if (key != null) {
          String diffId = learned.get(key);
          if (diffId == null) {
            throw new UnknownLayerException(name);
          }
          oci.layerSize.put(key, e.getSize());
          if (remoteDiffIds.contains(diffId)) {
            skipped++;
            bytesSkipped += e.getSize();
            continue;
          }
          TarArchiveEntry blob = blobEntry(diffId.substring(7), e.getSize());
          tout.putArchiveEntry(blob);
          transfer(tin, tout, buf);
          tout.closeArchiveEntry();
          continue;
        }
        if (e.isFile() && e.getSize() <= MAX_METADATA && LEGACY_JSON.matcher(name).matches()) {
          nameLegacyLayer(name, tin.readAllBytes());
          continue;
        }
        if (!e.isFile() || e.getSize() > MAX_METADATA || LEGACY_V1_META.matcher(name).matches() || name.equals("repositories")) {
          continue; // v1 directories and metadata: not part of an OCI layout
        }
        byte[] body = tin.readAllBytes();
        meta.offer(name, body);
        if (name.equals("manifest.json")) {
          oci.finish(meta, learned, tout);
        } else if (meta.isConfig(name)) {
          byte[] config = body;
          writeFile(tout, "blobs/sha256/" + hex(config), config);
          oci.configDigest.put(name, "sha256:" + hex(config));
          oci.configSize.put(name, (long) config.length);
        }
        continue;
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
          nameLegacyLayer(name, body);
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

  /** The entries a 20.10 archive starts with (an OCI layout starts with {@code blobs/}): the rewrite begins at one. */
  private static final Pattern LEGACY_ENTRY = Pattern.compile("[0-9a-f]{64}(/.*)?|[0-9a-f]{64}\\.json");
  private static final Pattern LEGACY_V1_META = Pattern.compile("[0-9a-f]{64}/(VERSION|json)");

  private static TarArchiveEntry blobEntry(String hex, long size) {
    TarArchiveEntry blob = new TarArchiveEntry("blobs/sha256/" + hex);
    blob.setSize(size);
    blob.setMode(0444);
    blob.setModTime(0);
    return blob;
  }

  private static void writeFile(TarArchiveOutputStream tout, String name, byte[] body) throws IOException {
    TarArchiveEntry f = new TarArchiveEntry(name);
    f.setSize(body.length);
    f.setMode(0444);
    f.setModTime(0);
    tout.putArchiveEntry(f);
    tout.write(body);
    tout.closeArchiveEntry();
  }

  private static String hex(byte[] body) {
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(body));
    } catch (java.security.NoSuchAlgorithmException ex) {
      throw new IllegalStateException(ex);
    }
  }

  /**
   * The image name containerd records for a Docker tag: {@code exp/x:1} is {@code docker.io/exp/x:1}, {@code x:1}
   * {@code docker.io/library/x:1}; a first component with a dot, a colon or {@code localhost} is a registry.
   */
  static String containerdName(String tag) {
    int slash = tag.indexOf('/');
    if (slash < 0) {
      return "docker.io/library/" + tag;
    }
    String first = tag.substring(0, slash);
    boolean registry = first.contains(".") || first.contains(":") || first.equals("localhost");
    return registry ? tag : "docker.io/" + tag;
  }

  /** What the OCI layout written in place of a 20.10 archive needs at its end. */
  private static final class OciRewrite {
    final Map<String, Long> layerSize = new HashMap<>();
    final Map<String, String> configDigest = new HashMap<>();
    final Map<String, Long> configSize = new HashMap<>();

    /** After the Docker manifest: the OCI manifests, index.json, a Docker manifest.json over the blobs, oci-layout. */
    void finish(Metadata meta, Map<String, String> learned, TarArchiveOutputStream tout) throws IOException {
      if (meta.manifest == null) {
        throw new IOException("the archive's manifest.json is not a Docker manifest");
      }
      com.fasterxml.jackson.databind.node.ArrayNode index = JSON.createArrayNode();
      com.fasterxml.jackson.databind.node.ArrayNode docker = JSON.createArrayNode();
      for (JsonNode entry : meta.manifest) {
        String config = entry.path("Config").asText();
        String cfgDigest = configDigest.get(config);
        if (cfgDigest == null) {
          throw new IOException("the archive's manifest names config '" + config + "', which came before it in no form");
        }
        com.fasterxml.jackson.databind.node.ObjectNode m = JSON.createObjectNode();
        m.put("schemaVersion", 2);
        m.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        m.putObject("config").put("mediaType", "application/vnd.oci.image.config.v1+json").put("digest", cfgDigest)
            .put("size", configSize.get(config));
        com.fasterxml.jackson.databind.node.ArrayNode layers = m.putArray("layers");
        com.fasterxml.jackson.databind.node.ArrayNode dockerLayers = JSON.createArrayNode();
        for (JsonNode f : entry.path("Layers")) {
          String key = layerKey(f.asText());
          String diffId = key == null ? null : learned.get(key);
          Long size = key == null ? null : layerSize.get(key);
          if (diffId == null || size == null) {
            throw new IOException("the archive's manifest names layer '" + f.asText() + "', which it does not hold");
          }
          layers.addObject().put("mediaType", "application/vnd.oci.image.layer.v1.tar").put("digest", diffId).put("size", size);
          dockerLayers.add("blobs/sha256/" + diffId.substring(7));
        }
        byte[] manifest = JSON.writeValueAsBytes(m);
        String manifestHex = hex(manifest);
        writeFile(tout, "blobs/sha256/" + manifestHex, manifest);
        JsonNode tags = entry.path("RepoTags");
        for (JsonNode t : tags.isArray() && tags.size() > 0 ? tags : JSON.createArrayNode().add("")) {
          com.fasterxml.jackson.databind.node.ObjectNode d = index.addObject();
          d.put("mediaType", "application/vnd.oci.image.manifest.v1+json").put("digest", "sha256:" + manifestHex)
              .put("size", manifest.length);
          String tag = t.asText();
          if (!tag.isEmpty()) {
            int colon = tag.lastIndexOf(':');
            String ref = colon > tag.lastIndexOf('/') ? tag.substring(colon + 1) : "latest";
            d.putObject("annotations").put("io.containerd.image.name", containerdName(tag))
                .put("org.opencontainers.image.ref.name", ref);
          }
        }
        com.fasterxml.jackson.databind.node.ObjectNode de = docker.addObject();
        de.put("Config", "blobs/sha256/" + cfgDigest.substring(7));
        de.set("RepoTags", tags.isArray() ? tags : JSON.createArrayNode());
        de.set("Layers", dockerLayers);
      }
      com.fasterxml.jackson.databind.node.ObjectNode idx = JSON.createObjectNode();
      idx.put("schemaVersion", 2);
      idx.put("mediaType", "application/vnd.oci.image.index.v1+json");
      idx.set("manifests", index);
      writeFile(tout, "index.json", JSON.writeValueAsBytes(idx));
      writeFile(tout, "manifest.json", JSON.writeValueAsBytes(docker));
      writeFile(tout, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
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

    boolean isConfig(String name) {
      return diffIdsByConfig.containsKey(name);
    }

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
