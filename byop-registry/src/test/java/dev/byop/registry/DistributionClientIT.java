package dev.byop.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.Credentials;
import dev.byop.core.RegistryException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import org.junit.jupiter.api.Test;

/** The client against the test bed's real registry (distribution 2.8, htpasswd, deletes enabled). */
@RequiresTestbed
class DistributionClientIT {
  private static final String RUN = Long.toString(System.currentTimeMillis(), 36);
  private static DistributionClient registry;

  @BeforeAll
  static void connect() {
    registry = DistributionClient.builder(Testbed.get().registry().address())
        .credentials(Credentials.basic(Testbed.get().registry().user(), Testbed.get().registry().password()))
        .chunkSize(8 << 20).build();
  }

  private static String repo(String name) {
    return "registry/" + name + "-" + RUN;
  }

  /** A config and one small layer, uploaded, and an image manifest over them (not a runnable image). */
  private static Manifest image(String repository, String mediaType, String seed) {
    boolean oci = mediaType.equals(MediaTypes.OCI_MANIFEST);
    byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\","
        + "\"diff_ids\":[]},\"seed\":\"" + seed + "\"}").getBytes(StandardCharsets.UTF_8);
    byte[] layer = new byte[4096];
    new Random(seed.hashCode()).nextBytes(layer);
    Descriptor c = registry.uploadBlob(repository, oci ? MediaTypes.OCI_CONFIG : MediaTypes.DOCKER_CONFIG, config);
    Descriptor l = registry.uploadBlob(repository, oci ? MediaTypes.OCI_LAYER : MediaTypes.DOCKER_LAYER, layer);
    return Manifest.image(mediaType, c, List.of(l));
  }

  @Test
  void apiVersion() {
    assertEquals("registry/2.0", registry.checkApiVersion());
  }

  @Test
  void dockerAndOciManifestsRoundTripByTagAndDigest() {
    String repository = repo("roundtrip");
    for (String type : List.of(MediaTypes.DOCKER_MANIFEST, MediaTypes.OCI_MANIFEST)) {
      Manifest m = image(repository, type, type);
      String tag = type.equals(MediaTypes.OCI_MANIFEST) ? "oci" : "docker";
      assertEquals(m.digest(), registry.putManifest(repository, tag, m));
      Descriptor head = registry.headManifest(repository, tag).orElseThrow();
      assertEquals(m.digest(), head.digest());
      assertEquals(type, head.mediaType());
      assertEquals(m.size(), head.size());
      Manifest byDigest = registry.getManifest(repository, m.digest());
      assertArrayEquals(m.content(), byDigest.content());
      assertEquals(type, byDigest.mediaType());
      Manifest byTag = registry.getManifest(repository, tag);
      assertEquals(m.layers(), byTag.layers());
      assertTrue(registry.blobExists(repository, byTag.config().digest()));
    }
    assertEquals(Optional.empty(), registry.headManifest(repository, "absent"));
    RegistryException e = assertThrows(RegistryException.class, () -> registry.getManifest(repository, "absent"));
    assertEquals(404, e.status());
    assertEquals(List.of("MANIFEST_UNKNOWN"), e.errorCodes());
  }

  @Test
  void indexAndManifestListAreStoredAndReadBack() {
    String repository = repo("index");
    Manifest amd = image(repository, MediaTypes.OCI_MANIFEST, "amd64");
    Manifest arm = image(repository, MediaTypes.OCI_MANIFEST, "arm64");
    registry.putManifest(repository, amd.digest(), amd);
    registry.putManifest(repository, arm.digest(), arm);
    List<Descriptor> entries = List.of(amd.descriptor().withPlatform(Platform.of("linux", "amd64")),
        arm.descriptor().withPlatform(new Platform("linux", "arm64", "v8")));
    Manifest index = Manifest.index(MediaTypes.OCI_INDEX, entries);
    assertEquals(index.digest(), registry.putManifest(repository, "multi", index));

    Manifest back = registry.getManifest(repository, "multi");
    assertTrue(back.isIndex());
    assertEquals(MediaTypes.OCI_INDEX, back.mediaType());
    assertEquals(index.digest(), back.digest());
    assertEquals(entries, back.manifests());
    assertEquals("linux/arm64/v8", back.manifests().get(1).platform().toString());
    // each entry resolves to its image manifest
    assertEquals(arm.digest(), registry.getManifest(repository, back.manifests().get(1).digest()).digest());

    Manifest dockerMany = image(repository, MediaTypes.DOCKER_MANIFEST, "docker-amd64");
    registry.putManifest(repository, dockerMany.digest(), dockerMany);
    Manifest list = Manifest.index(MediaTypes.DOCKER_MANIFEST_LIST,
        List.of(dockerMany.descriptor().withPlatform(Platform.of("linux", "amd64"))));
    registry.putManifest(repository, "list", list);
    Descriptor head = registry.headManifest(repository, "list").orElseThrow();
    assertEquals(MediaTypes.DOCKER_MANIFEST_LIST, head.mediaType());
    assertEquals(list.digest(), head.digest());
  }

  /** 100 MB of deterministic pseudo-random bytes, generated as they are read. */
  static final class GeneratedStream extends InputStream {
    private final SplittableRandom random;
    private long remaining;

    GeneratedStream(long size, long seed) {
      this.remaining = size;
      this.random = new SplittableRandom(seed);
    }

    @Override
    public int read() {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (remaining == 0) return -1;
      int n = (int) Math.min(len, remaining);
      for (int i = 0; i < n; i++) b[off + i] = (byte) random.nextInt();
      remaining -= n;
      return n;
    }
  }

  @Test
  void chunkedUploadOfA100MegabyteBlob() throws Exception {
    long size = 100L << 20;
    String repository = repo("big");
    MessageDigest sha = Digests.newSha256();
    try (InputStream in = new GeneratedStream(size, 42)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) sha.update(buf, 0, n);
    }
    String expected = Digests.format(sha.digest());
    Descriptor d;
    try (InputStream in = new GeneratedStream(size, 42)) {
      d = registry.uploadBlobChunked(repository, MediaTypes.OCI_LAYER, in);
    }
    assertEquals(expected, d.digest());
    assertEquals(size, d.size());
    assertEquals(Optional.of(size), registry.headBlob(repository, expected));
  }

  @Test
  void crossRepositoryMount() {
    String from = repo("mount-src");
    String to = repo("mount-dst");
    byte[] content = ("mount me " + RUN).getBytes(StandardCharsets.UTF_8);
    Descriptor d = registry.uploadBlob(from, MediaTypes.OCI_LAYER, content);
    assertFalse(registry.blobExists(to, d.digest()));
    assertTrue(registry.mountBlob(to, d.digest(), from));
    assertTrue(registry.blobExists(to, d.digest()));
    String unknown = Digests.sha256(("never uploaded " + RUN).getBytes(StandardCharsets.UTF_8));
    assertFalse(registry.mountBlob(to, unknown, from));
  }

  @Test
  void tagListingFollowsPagination() {
    String repository = repo("tags");
    Manifest m = image(repository, MediaTypes.OCI_MANIFEST, "tags");
    List<String> tags = new ArrayList<>();
    for (int i = 0; i < 7; i++) tags.add("t" + i);
    for (String t : tags) registry.putManifest(repository, t, m);
    // distribution 2.8 ignores n for tags (one page); the Link-following path is exercised by the catalog below
    assertEquals(tags, registry.listTags(repository, 2).stream().sorted().toList());
    assertEquals(tags, registry.listTags(repository).stream().sorted().toList());
  }

  @Test
  void catalogPaginationFollowsLinkHeadersOfTheRealRegistry() {
    List<String> mine = List.of(repo("cat-a"), repo("cat-b"), repo("cat-c"));
    for (String r : mine) registry.putManifest(r, "v1", image(r, MediaTypes.OCI_MANIFEST, r));
    List<String> all = registry.listRepositories(0);
    List<String> paged = registry.listRepositories(2);
    assertTrue(paged.size() > 2 && paged.containsAll(mine), paged.toString());
    assertEquals(all.stream().sorted().toList(), paged.stream().sorted().toList());
  }

  @Test
  void deleteByDigest() {
    String repository = repo("delete");
    Manifest m = image(repository, MediaTypes.DOCKER_MANIFEST, "delete");
    registry.putManifest(repository, "doomed", m);
    registry.deleteManifest(repository, m.digest());
    assertEquals(Optional.empty(), registry.headManifest(repository, m.digest()));
    assertEquals(Optional.empty(), registry.headManifest(repository, "doomed"));
    RegistryException e = assertThrows(RegistryException.class, () -> registry.deleteManifest(repository, m.digest()));
    assertEquals(404, e.status());
  }

  @Test
  void wrongPasswordNamesTheRegistryAndThe401ButNeverThePassword() {
    String canary = "canary-" + RUN + "-Pw!";
    DistributionClient wrong = DistributionClient.builder(Testbed.get().registry().address())
        .credentials(Credentials.basic(Testbed.get().registry().user(), canary)).build();
    RegistryException e = assertThrows(RegistryException.class, () -> wrong.headManifest(repo("x"), "v1"));
    assertEquals(401, e.status());
    assertEquals(Testbed.get().registry().address(), e.registry());
    assertTrue(e.getMessage().contains(Testbed.get().registry().address()) && e.getMessage().contains("401"), e.getMessage());
    StringWriter all = new StringWriter();
    e.printStackTrace(new PrintWriter(all));
    assertFalse(all.toString().contains(canary), "the password leaked: " + all);
    e = assertThrows(RegistryException.class, () -> wrong.uploadBlob(repo("x"), MediaTypes.OCI_LAYER, new byte[1]));
    assertEquals(401, e.status());
  }

  @Test
  void registryDownIsRetriedThenFailsWithTheCause() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    DistributionClient down = DistributionClient.builder("127.0.0.1:" + port).build();
    long t0 = System.nanoTime();
    RegistryException e = assertThrows(RegistryException.class, () -> down.headManifest("registry/down", "v1"));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(0, e.status());
    assertTrue(e.getMessage().contains("4 attempt(s)"), e.getMessage());
    assertTrue(e.getCause() instanceof java.net.ConnectException, String.valueOf(e.getCause()));
    assertTrue(ms < 15_000, "took " + ms + " ms");
  }
}
