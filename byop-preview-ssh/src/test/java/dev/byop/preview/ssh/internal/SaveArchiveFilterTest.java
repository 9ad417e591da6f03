package dev.byop.preview.ssh.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;

class SaveArchiveFilterTest {

  static final String V1A = "a".repeat(64);
  static final String V1B = "b".repeat(64);
  static final byte[] LAYER_A = filled(300_000, (byte) 1);
  static final byte[] LAYER_B = filled(1_000, (byte) 2);

  static byte[] filled(int n, byte b) {
    byte[] x = new byte[n];
    java.util.Arrays.fill(x, b);
    return x;
  }

  static String diffId(byte[] layer) throws Exception {
    return diffIdOf(layer);
  }

  static String diffIdOf(byte[] layer) {
    try {
      return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(layer));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] tar(Map<String, byte[]> files) throws IOException {
    return tar(List.of(), files);
  }

  /** A tar of these directories, then these files in order. */
  static byte[] tar(List<String> dirs, Map<String, byte[]> files) throws IOException {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (TarArchiveOutputStream t = new TarArchiveOutputStream(bos)) {
      t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      for (String dir : dirs) {
        t.putArchiveEntry(new TarArchiveEntry(dir));
        t.closeArchiveEntry();
      }
      for (Map.Entry<String, byte[]> f : files.entrySet()) {
        TarArchiveEntry e = new TarArchiveEntry(f.getKey());
        e.setSize(f.getValue().length);
        t.putArchiveEntry(e);
        t.write(f.getValue());
        t.closeArchiveEntry();
      }
    }
    return bos.toByteArray();
  }

  static byte[] gzip(byte[] b) throws IOException {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream g = new java.util.zip.GZIPOutputStream(bos)) {
      g.write(b);
    }
    return bos.toByteArray();
  }

  static String hex(byte[] b) {
    return diffIdOf(b).substring(7);
  }

  /**
   * Shaped like Docker 26.1's save from the containerd store: blobs in digest order (gzip layers, config, manifests,
   * the index), then index.json, manifest.json, oci-layout.
   */
  static byte[] containerdArchive(byte[] gzA, byte[] gzB) throws IOException {
    byte[] config = ("{\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + diffIdOf(LAYER_A) + "\",\""
        + diffIdOf(LAYER_B) + "\"]}}").getBytes(StandardCharsets.UTF_8);
    byte[] ociManifest = ("{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:" + hex(config) + "\"},\"layers\":[{\"digest\":\"sha256:"
        + hex(gzA) + "\"},{\"digest\":\"sha256:" + hex(gzB) + "\"}]}").getBytes(StandardCharsets.UTF_8);
    java.util.TreeMap<String, byte[]> blobs = new java.util.TreeMap<>();
    for (byte[] b : new byte[][] {gzA, gzB, config, ociManifest}) {
      blobs.put("blobs/sha256/" + hex(b), b);
    }
    Map<String, byte[]> files = new LinkedHashMap<>(blobs);
    files.put("index.json", ("{\"manifests\":[{\"digest\":\"sha256:" + hex(ociManifest) + "\"}]}").getBytes(StandardCharsets.UTF_8));
    files.put("manifest.json", ("[{\"Config\":\"blobs/sha256/" + hex(config) + "\",\"RepoTags\":[\"x:1\"],\"Layers\":[\"blobs/sha256/"
        + hex(gzA) + "\",\"blobs/sha256/" + hex(gzB) + "\"]}]").getBytes(StandardCharsets.UTF_8));
    files.put("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
    return tar(files);
  }

  /** Shaped like Docker 20.10's save: layer dirs in name order, then config, manifest.json, repositories. */
  static byte[] archive() throws IOException {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put(V1A + "/VERSION", "1.0".getBytes(StandardCharsets.UTF_8));
    files.put(V1A + "/json", "{\"id\":\"a\"}".getBytes(StandardCharsets.UTF_8));
    files.put(V1A + "/layer.tar", LAYER_A);
    files.put(V1B + "/VERSION", "1.0".getBytes(StandardCharsets.UTF_8));
    files.put(V1B + "/json", "{\"id\":\"b\"}".getBytes(StandardCharsets.UTF_8));
    files.put(V1B + "/layer.tar", LAYER_B);
    String config = "c".repeat(64) + ".json";
    files.put(config, ("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + diffIdOf(LAYER_A) + "\",\"" + diffIdOf(LAYER_B)
        + "\"]}}").getBytes(StandardCharsets.UTF_8));
    files.put("manifest.json", ("[{\"Config\":\"" + config + "\",\"RepoTags\":[\"x:1\"],\"Layers\":[\"" + V1A + "/layer.tar\",\""
        + V1B + "/layer.tar\"]}]").getBytes(StandardCharsets.UTF_8));
    files.put("repositories", "{}".getBytes(StandardCharsets.UTF_8));
    return tar(List.of(V1A + "/", V1B + "/"), files);
  }

  static Map<String, byte[]> read(byte[] tar) throws IOException {
    Map<String, byte[]> out = new LinkedHashMap<>();
    try (TarArchiveInputStream t = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
      TarArchiveEntry e;
      while ((e = t.getNextEntry()) != null) {
        out.put(e.getName(), t.readAllBytes());
      }
    }
    return out;
  }

  @Test
  void passesEverythingThroughAndLearnsDiffIds() throws Exception {
    Map<String, String> learned = new HashMap<>();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SaveArchiveFilter.Stats st = new SaveArchiveFilter(Set.of(), learned).copy(new ByteArrayInputStream(archive()), out);
    assertEquals(new SaveArchiveFilter.Stats(2, 0, 0), st);
    Map<String, byte[]> in = read(archive());
    Map<String, byte[]> got = read(out.toByteArray());
    assertEquals(in.keySet(), got.keySet());
    for (String k : in.keySet()) {
      assertArrayEquals(in.get(k), got.get(k), k);
    }
    assertEquals(Map.of(V1A, diffId(LAYER_A), V1B, diffId(LAYER_B)), learned);
  }

  @Test
  void dropsOnlyLayersTheRemoteHoldsAndKeepsMetadata() throws Exception {
    Map<String, String> learned = new HashMap<>();
    SaveArchiveFilter.learn(new ByteArrayInputStream(archive()), learned);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SaveArchiveFilter.Stats st = new SaveArchiveFilter(Set.of(diffId(LAYER_A)), learned).copy(new ByteArrayInputStream(archive()), out);
    assertEquals(new SaveArchiveFilter.Stats(2, 1, LAYER_A.length), st);
    Map<String, byte[]> got = read(out.toByteArray());
    assertTrue(!got.containsKey(V1A + "/layer.tar"));
    assertTrue(got.containsKey(V1A + "/json"));
    assertArrayEquals(LAYER_B, got.get(V1B + "/layer.tar"));
    assertTrue(got.containsKey("manifest.json") && got.containsKey("repositories") && got.containsKey("c".repeat(64) + ".json"));
    assertTrue(out.size() < 20_000, "partial archive is small: " + out.size());
  }

  @Test
  void unknownLayerFileIsSentEvenIfRemoteHoldsSomething() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SaveArchiveFilter.Stats st = new SaveArchiveFilter(Set.of(diffId(LAYER_A)), new HashMap<>()).copy(new ByteArrayInputStream(archive()), out);
    assertEquals(0, st.skipped());
    assertTrue(read(out.toByteArray()).containsKey(V1A + "/layer.tar"));
  }

  @Test
  void ociBlobsAreDecidedByTheirDigest() throws Exception {
    String digest = diffId(LAYER_A).substring(7);
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (TarArchiveOutputStream t = new TarArchiveOutputStream(bos)) {
      TarArchiveEntry e = new TarArchiveEntry("blobs/sha256/" + digest);
      e.setSize(LAYER_A.length);
      t.putArchiveEntry(e);
      t.write(LAYER_A);
      t.closeArchiveEntry();
      TarArchiveEntry m = new TarArchiveEntry("index.json");
      m.setSize(2);
      t.putArchiveEntry(m);
      t.write("{}".getBytes(StandardCharsets.UTF_8));
      t.closeArchiveEntry();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SaveArchiveFilter.Stats st = new SaveArchiveFilter(Set.of("sha256:" + digest), new HashMap<>()).copy(new ByteArrayInputStream(bos.toByteArray()), out);
    assertEquals(1, st.skipped());
    assertEquals(Set.of("index.json"), read(out.toByteArray()).keySet());
  }

  @Test
  void gzipBlobsOfTheContainerdStoreAreMappedByTheManifestAndLeftOutOnceKnown() throws Exception {
    byte[] gzA = gzip(LAYER_A);
    byte[] gzB = gzip(LAYER_B);
    byte[] archive = containerdArchive(gzA, gzB);
    Map<String, String> learned = new HashMap<>();
    // first pass: the blob digests are not diff ids, nothing is known yet, everything goes
    ByteArrayOutputStream first = new ByteArrayOutputStream();
    SaveArchiveFilter.Stats st = new SaveArchiveFilter(Set.of(diffIdOf(LAYER_A)), learned).copy(new ByteArrayInputStream(archive), first);
    assertEquals(new SaveArchiveFilter.Stats(2, 0, 0), st, "two layers, config and manifest blobs are not layers");
    assertEquals(Map.of(hex(gzA), diffIdOf(LAYER_A), hex(gzB), diffIdOf(LAYER_B)), learned);
    assertEquals(read(archive).keySet(), read(first.toByteArray()).keySet());
    // second pass: the gzip blob of the held layer is left out, the metadata stays
    ByteArrayOutputStream second = new ByteArrayOutputStream();
    st = new SaveArchiveFilter(Set.of(diffIdOf(LAYER_A)), learned).copy(new ByteArrayInputStream(archive), second);
    assertEquals(new SaveArchiveFilter.Stats(2, 1, gzA.length), st);
    Map<String, byte[]> got = read(second.toByteArray());
    assertTrue(!got.containsKey("blobs/sha256/" + hex(gzA)));
    assertArrayEquals(gzB, got.get("blobs/sha256/" + hex(gzB)));
    assertTrue(got.containsKey("index.json") && got.containsKey("manifest.json") && got.containsKey("oci-layout"));
  }

  @Test
  void learnReadsOnlyMetadataAndMapsTheContainerdBlobs() throws Exception {
    byte[] gzA = gzip(LAYER_A);
    byte[] gzB = gzip(LAYER_B);
    Map<String, String> learned = new HashMap<>();
    SaveArchiveFilter.learn(new ByteArrayInputStream(containerdArchive(gzA, gzB)), learned);
    assertEquals(Map.of(hex(gzA), diffIdOf(LAYER_A), hex(gzB), diffIdOf(LAYER_B)), learned);
  }

  @Test
  void aManifestThatDoesNotMatchItsConfigTeachesNothing() throws Exception {
    // hostile or foreign metadata: two layer files against one diff id, a diff id that is not sha256:<hex>
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put(V1A + "/layer.tar", LAYER_A);
    files.put("c.json", ("{\"rootfs\":{\"diff_ids\":[\"" + diffIdOf(LAYER_A) + "\"]}}").getBytes(StandardCharsets.UTF_8));
    files.put("d.json", "{\"rootfs\":{\"diff_ids\":[\"../../etc/passwd\"]}}".getBytes(StandardCharsets.UTF_8));
    files.put("manifest.json", ("[{\"Config\":\"c.json\",\"Layers\":[\"" + V1A + "/layer.tar\",\"" + V1B + "/layer.tar\"]},"
        + "{\"Config\":\"d.json\",\"Layers\":[\"" + V1B + "/layer.tar\"]}, 7, \"x\"]").getBytes(StandardCharsets.UTF_8));
    Map<String, String> learned = new HashMap<>();
    SaveArchiveFilter.learn(new ByteArrayInputStream(tar(files)), learned);
    assertEquals(Map.of(), learned);
  }

  @Test
  void a2010ArchiveIsRewrittenIntoAnOciLayoutForAContainerdStore() throws Exception {
    Map<String, String> learned = new HashMap<>();
    SaveArchiveFilter.learn(new ByteArrayInputStream(archive()), learned);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SaveArchiveFilter.Stats st = new SaveArchiveFilter(Set.of(diffId(LAYER_A)), learned, true)
        .copy(new ByteArrayInputStream(archive()), out);
    assertEquals(new SaveArchiveFilter.Stats(2, 1, LAYER_A.length), st);
    Map<String, byte[]> got = read(out.toByteArray());
    String b = diffId(LAYER_B).substring(7);
    assertArrayEquals(LAYER_B, got.get("blobs/sha256/" + b), "the layer file becomes the blob of its diff id");
    assertTrue(!got.containsKey("blobs/sha256/" + diffId(LAYER_A).substring(7)), "the held layer is left out");
    assertTrue(got.keySet().stream().noneMatch(k -> k.startsWith(V1A) || k.startsWith(V1B) || k.equals("repositories")), got.keySet().toString());
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    var index = json.readTree(got.get("index.json"));
    var d = index.path("manifests").get(0);
    assertEquals("docker.io/library/x:1", d.path("annotations").path("io.containerd.image.name").asText());
    assertEquals("1", d.path("annotations").path("org.opencontainers.image.ref.name").asText());
    byte[] manifest = got.get("blobs/sha256/" + d.path("digest").asText().substring(7));
    assertEquals(d.path("size").asLong(), manifest.length);
    assertEquals(d.path("digest").asText(), diffIdOf(manifest), "blobs are named by their digest");
    var m = json.readTree(manifest);
    assertEquals(diffId(LAYER_A), m.path("layers").get(0).path("digest").asText());
    assertEquals(LAYER_A.length, m.path("layers").get(0).path("size").asLong(), "a left-out layer keeps its size");
    assertEquals(diffId(LAYER_B), m.path("layers").get(1).path("digest").asText());
    byte[] config = got.get("blobs/sha256/" + m.path("config").path("digest").asText().substring(7));
    assertArrayEquals(read(archive()).get("c".repeat(64) + ".json"), config, "the config is passed as it is");
    var docker = json.readTree(got.get("manifest.json")).get(0);
    assertEquals("blobs/sha256/" + b, docker.path("Layers").get(1).asText());
    assertTrue(got.containsKey("oci-layout"));
  }

  @Test
  void rewritingNeedsEveryLayerFileKnownAndSaysSoBeforeWritingIt() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThrowsUnknown(() -> new SaveArchiveFilter(Set.of(), new HashMap<>(), true).copy(new ByteArrayInputStream(archive()), out));
    assertTrue(out.size() == 0, "nothing of the layer went out: " + out.size());
  }

  private static void assertThrowsUnknown(org.junit.jupiter.api.function.Executable e) {
    SaveArchiveFilter.UnknownLayerException x = org.junit.jupiter.api.Assertions.assertThrows(SaveArchiveFilter.UnknownLayerException.class, e);
    assertTrue(x.getMessage().contains(V1A + "/layer.tar"), x.getMessage());
  }

  @Test
  void anOciArchiveIsLeftAsItIsInRewriteMode() throws Exception {
    byte[] archive = containerdArchive(gzip(LAYER_A), gzip(LAYER_B));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new SaveArchiveFilter(Set.of(), new HashMap<>(), true).copy(new ByteArrayInputStream(archive), out);
    assertEquals(read(archive).keySet(), read(out.toByteArray()).keySet());
  }

  @Test
  void containerdNamesADockerTagAsDockerDoes() {
    assertEquals("docker.io/library/x:1", SaveArchiveFilter.containerdName("x:1"));
    assertEquals("docker.io/exp/x:1", SaveArchiveFilter.containerdName("exp/x:1"));
    assertEquals("10.203.1.1:5000/shop/web:abc", SaveArchiveFilter.containerdName("10.203.1.1:5000/shop/web:abc"));
    assertEquals("registry.example/a/b:c", SaveArchiveFilter.containerdName("registry.example/a/b:c"));
    assertEquals("localhost/a:b", SaveArchiveFilter.containerdName("localhost/a:b"));
  }

  static byte[] resource(String name) throws IOException {
    try (java.io.InputStream in = SaveArchiveFilterTest.class.getResourceAsStream("v1/" + name)) {
      return in.readAllBytes();
    }
  }

  static final String V1_BASE = "6237496e295dbbd4c9067e5d5b92d687e21ef1005280bc3e2e89c246af3803c8";
  static final String V1_TOP = "2a792298c6d1ce0240013c9eb2864c5a2137e3180f5cdbd89e0bb8b1aeb19f01";

  static List<String> realDiffIds() throws IOException {
    return new String(resource("diff-ids.txt"), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
  }

  /** The layer jsons of a real Docker 20.10 save (base image layer, then a COPY layer) name their layers. */
  @Test
  void aDocker2010LayerJsonNamesItsLayerByItsV1Id() throws Exception {
    List<String> diffIds = realDiffIds();
    assertEquals(diffIds.get(0), SaveArchiveFilter.v1Id(V1_BASE, resource(V1_BASE + ".json"), diffIds));
    assertEquals(diffIds.get(1), SaveArchiveFilter.v1Id(V1_TOP, resource(V1_TOP + ".json"), diffIds));
    // another image's layers, or a changed json: no name (the layer is then sent)
    assertEquals(null, SaveArchiveFilter.v1Id(V1_TOP, resource(V1_TOP + ".json"), List.of(diffIds.get(1))));
    byte[] changed = new String(resource(V1_BASE + ".json"), StandardCharsets.UTF_8).replace("1970-01-01", "1971-01-01").getBytes(StandardCharsets.UTF_8);
    assertEquals(null, SaveArchiveFilter.v1Id(V1_BASE, changed, diffIds));
  }

  /** Streaming a 20.10 archive with its image's diff ids leaves out a held layer with nothing learned before. */
  @Test
  void aHeldLayerOfA2010ArchiveIsLeftOutInOnePass() throws Exception {
    List<String> diffIds = realDiffIds();
    byte[] base = filled(2048, (byte) 7);
    byte[] top = filled(4096, (byte) 8);
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (String v1 : new String[] {V1_TOP, V1_BASE}) { // name order, as 20.10 writes it: the top layer first here
      files.put(v1 + "/VERSION", "1.0".getBytes(StandardCharsets.UTF_8));
      files.put(v1 + "/json", resource(v1 + ".json"));
      files.put(v1 + "/layer.tar", v1.equals(V1_BASE) ? base : top);
    }
    byte[] archive = tar(files);
    Map<String, String> learned = new HashMap<>();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SaveArchiveFilter.Stats st = new SaveArchiveFilter(Set.of(diffIds.get(0)), learned, false, diffIds)
        .copy(new ByteArrayInputStream(archive), out);
    assertEquals(1, st.skipped());
    Map<String, byte[]> got = read(out.toByteArray());
    assertTrue(!got.containsKey(V1_BASE + "/layer.tar"), got.keySet().toString());
    assertArrayEquals(top, got.get(V1_TOP + "/layer.tar"));
    assertEquals(Map.of(V1_BASE, diffIds.get(0), V1_TOP, diffIds.get(1)), learned);
  }
}
