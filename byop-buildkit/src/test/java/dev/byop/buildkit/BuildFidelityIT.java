package dev.byop.buildkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.spi.Cancellation;
import dev.byop.docker.DockerEndpoint;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Differential test against the Docker CLI: each generated context is built by {@code DOCKER_BUILDKIT=1 docker
 * build} and by byop's {@link BuildKitClient} on the same engine ({@code FROM busybox} + {@code COPY . /ctx}, no
 * cache), and the two images' {@code /ctx} trees are compared entry by entry: type, mode (with setuid/setgid/sticky),
 * owner, size, link count, which names share an inode, mtime in nanoseconds (files and links), link text, content
 * digest.
 *
 * <p>Not compared: directory mtimes. The daemon does not keep them (the image shows when the build wrote the
 * directory, for the CLI's build as for byop's), so two builds never agree on them; and for the same reason the
 * layer diff ids differ. Extended attributes are not visible to busybox; 20.10 keeps none of the context's in the
 * image (seen: neither {@code user.*} nor {@code security.capability} reaches the layer tar of the CLI's image).
 *
 * <p>Engine and CLI are a parameter: the bed's 20.10 with its own 20.10 CLI and with the Docker 26 CLI (buildx), and
 * Docker 26 (classic and containerd image store) with its CLI, when the bed's env file names them
 * ({@code DOCKER26_HOST}, {@code DOCKER26_CONTAINERD_HOST}, {@code DOCKER26_CLI}, {@code DOCKER26_CONFIG}). The
 * sender is the CLI's (fsutil in the client), so byop follows the current one where the two differ.
 */
@RequiresTestbed
class BuildFidelityIT {
  private static final String RUN = Long.toString(System.currentTimeMillis(), 36);
  private static final Testbed BED = Testbed.get();
  private static final List<Object[]> IMAGES = new CopyOnWriteArrayList<>();
  private static final String EOR = "<<EOR>>";

  @TempDir static Path tmp;

  /** A Docker engine and the CLI that builds on it. */
  record Engine(String name, String dockerHost, String cli, Map<String, String> env, boolean legacyCli) {
    @Override
    public String toString() {
      return name;
    }
  }

  /** A context generator. */
  @FunctionalInterface
  interface Maker {
    void make(Path dir, Engine engine) throws Exception;
  }

  static List<Engine> engines() {
    List<Engine> e = new ArrayList<>();
    e.add(new Engine("bed-20.10-cli-20.10", BED.dockerHost(), BED.dockerCli().toString(), Map.of(), true));
    String cli = BED.find("DOCKER26_CLI").orElse(null);
    if (cli != null) {
      // the trixie CLI finds its buildx plugin through this config; it also builds on the 20.10 daemon
      Map<String, String> env = BED.find("DOCKER26_CONFIG").map(c -> Map.of("DOCKER_CONFIG", c)).orElse(Map.of());
      e.add(new Engine("bed-20.10-cli-26", BED.dockerHost(), cli, env, false));
      BED.find("DOCKER26_HOST").ifPresent(h -> e.add(new Engine("docker-26", h, cli, env, false)));
      BED.find("DOCKER26_CONTAINERD_HOST").ifPresent(h -> e.add(new Engine("docker-26-containerd", h, cli, env,
          false)));
    }
    return e;
  }

  static Stream<Arguments> cases() {
    Map<String, Maker> contexts = new java.util.LinkedHashMap<>();
    contexts.put("ignore", BuildFidelityIT::ignoreRules);
    contexts.put("names", BuildFidelityIT::oddNames);
    contexts.put("sizes", BuildFidelityIT::sizes);
    contexts.put("modes", BuildFidelityIT::modes);
    contexts.put("links", BuildFidelityIT::links);
    contexts.put("owners", BuildFidelityIT::owners);
    contexts.put("times", BuildFidelityIT::times);
    contexts.put("trees", BuildFidelityIT::trees);
    contexts.put("special", BuildFidelityIT::specialFiles);
    List<Arguments> a = new ArrayList<>();
    for (Engine e : engines()) {
      contexts.forEach((n, m) -> a.add(Arguments.of(e, n, m)));
    }
    return a.stream();
  }

  @AfterAll
  static void removeImages() {
    for (Object[] i : IMAGES) {
      docker((Engine) i[0], false, "rmi", "-f", (String) i[1]);
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void byopBuildsTheSameImageAsTheCli(Engine engine, String name, Maker maker) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve(engine.name() + "-" + name).resolve("ctx"));
    Files.writeString(dir.resolve("Dockerfile"), "FROM " + BED.baseImage() + "\nCOPY . /ctx\n");
    maker.make(dir, engine);
    String cliImage = image(engine, name + "-cli");
    String byopImage = image(engine, name + "-byop");
    Map<String, String> env = new HashMap<>(engine.env());
    env.put("DOCKER_BUILDKIT", "1");
    env.put("DOCKER_HOST", engine.dockerHost());
    Cli.Result r = Cli.run(dir, env, engine.cli(), "build", "--no-cache", "-t", cliImage, ".");
    assertEquals(0, r.exit(), r.out());
    try (BuildKitClient bk = BuildKitClient.connect(BuildKitEndpoint.docker(
        DockerEndpoint.parse(engine.dockerHost())))) {
      bk.build(DockerfileBuild.local(dir, byopImage).withNoCache(true), l -> { }, Cancellation.none());
    }
    List<String> cli = listing(engine, cliImage);
    List<String> byop = listing(engine, byopImage);
    assertTrue(cli.size() > 2, cli.toString());
    assertEquals(String.join("\n", cli), String.join("\n", byop), name + ": /ctx differs (CLI expected, byop actual)");
  }

  private static String image(Engine engine, String what) {
    String i = "byop-it-fidelity-" + RUN + "/" + engine.name() + "-" + what + ":1";
    IMAGES.add(new Object[] {engine, i});
    return i;
  }

  private static String docker(Engine engine, boolean check, String... args) {
    List<String> cmd = new ArrayList<>(List.of(engine.cli()));
    cmd.addAll(List.of(args));
    Map<String, String> env = new HashMap<>(engine.env());
    env.put("DOCKER_HOST", engine.dockerHost());
    Cli.Result r = Cli.run(null, env, cmd.toArray(String[]::new));
    if (check) {
      assertEquals(0, r.exit(), cmd + ": " + r.out());
    }
    return r.out();
  }

  /**
   * One line per entry below /ctx, sorted by name: busybox stat's fields, the inode replaced by the first name that
   * shares it (inode numbers differ between images, sharing must not), plus the content's digest.
   */
  private static List<String> listing(Engine engine, String image) {
    String fmt = "%F|%a|%u:%g|%s|%h|%y|%t,%T|%i|%n|%N" + EOR;
    // names may hold newlines: every record ends with EOR, and md5sum reads stdin so that it never prints a name
    String out = docker(engine, true, "run", "--rm", "--network", "none", image, "sh", "-c",
        "find /ctx -exec stat -c '" + fmt + "' {} + && echo '" + EOR + "SUMS' && "
            + "find /ctx -type f -exec sh -c 'for f; do s=$(md5sum < \"$f\"); printf \"%s %s" + EOR
            + "\\n\" \"${s%% *}\" \"$f\"; done' sh {} +");
    String[] parts = out.split(EOR + "SUMS\n", 2);
    Map<String, String> sums = new HashMap<>();
    for (String rec : parts[1].split(EOR + "\n")) {
      if (!rec.isEmpty()) {
        sums.put(rec.substring(33), rec.substring(0, 32));
      }
    }
    List<String[]> rows = new ArrayList<>();
    for (String rec : parts[0].split(EOR + "\n")) {
      if (!rec.isEmpty()) {
        rows.add(rec.split("\\|", 10));
      }
    }
    rows.sort((x, y) -> x[8].compareTo(y[8]));
    Map<String, String> firstOfInode = new HashMap<>();
    List<String> lines = new ArrayList<>();
    for (String[] f : rows) {
      String inode = firstOfInode.computeIfAbsent(f[7], k -> f[8]);
      String link = f[9].startsWith("'" + f[8] + "' -> ") ? f[9].substring(f[8].length() + 6) : "";
      String mtime = f[0].equals("directory") ? "-" : f[5];
      lines.add(String.join("|", f[8], f[0], f[1], f[2], f[3], f[4], mtime, f[6], "inode-of:" + inode,
          "link:" + link, "md5:" + sums.getOrDefault(f[8], "-")));
    }
    return lines;
  }

  // --- contexts ------------------------------------------------------------------------------------------------

  private static void ignoreRules(Path d, Engine engine) throws Exception {
    Files.writeString(d.resolve(".dockerignore"), "*.log\n!keep.log\n**/tmp\nbuild/\n!build/dist/app\n"
        + "docs/**/*.md\n!docs/**/README.md\n# a comment\n\n"
        // exceptions below an excluded directory, by wildcard and for an absent name: byop sends what buildx's
        // fsutil sends; the 20.10 CLI's older fsutil skips "skipped" whole and sends "named" empty
        + (engine.legacyCli() ? "" : "skipped\n!**/keep2\nnamed\n!named/absent\n"));
    for (String f : List.of("a.log", "keep.log", "x/tmp/y", "tmp/z", "build/out", "build/dist/app",
        "build/dist/other", "docs/a/b/c.md", "docs/a/README.md", "docs/x.txt", "sub/a.log", "main.c",
        "skipped/keep2", "named/other")) {
      write(d.resolve(f), f);
    }
  }

  private static void oddNames(Path d, Engine engine) throws Exception {
    for (String f : List.of("with space", "  lead and trail  ", "é漢字😀", "-rf", "--help", "a*b?[c]", "#hash",
        ".hidden", "new\nline", "tab\tname", "back\\slash", "quote'\"", "dir with space/inner file", "~tilde")) {
      write(d.resolve(f), f);
    }
  }

  private static void sizes(Path d, Engine engine) throws Exception {
    Random r = new Random(42);
    for (int n : new int[] {0, 1, 32 * 1024, 32 * 1024 + 1, 1024 * 1024, 3 * 1024 * 1024 + 7}) {
      byte[] b = new byte[n];
      r.nextBytes(b);
      Files.write(d.resolve("size-" + n), b);
    }
  }

  private static void modes(Path d, Engine engine) throws Exception {
    String[][] files = {{"f0600", "600"}, {"f0755", "755"}, {"f0444", "444"}, {"f0000", "000"},
        {"suid", "4755"}, {"sgid", "2755"}, {"both", "6750"}, {"f0777", "777"}};
    for (String[] f : files) {
      write(d.resolve(f[0]), f[0]);
      chmod(d.resolve(f[0]), f[1]);
    }
    for (String[] f : new String[][] {{"d0700", "700"}, {"sticky", "1777"}, {"d0555", "555"}, {"dsgid", "2775"}}) {
      write(d.resolve(f[0]).resolve("inside"), "x");
      chmod(d.resolve(f[0]), f[1]);
    }
  }

  private static void links(Path d, Engine engine) throws Exception {
    write(d.resolve("target"), "target");
    write(d.resolve("dir/file"), "file");
    Files.createSymbolicLink(d.resolve("rel"), Path.of("target"));
    Files.createSymbolicLink(d.resolve("dir/up"), Path.of("../target"));
    Files.createSymbolicLink(d.resolve("abs"), Path.of("/etc/passwd"));
    Files.createSymbolicLink(d.resolve("dangling"), Path.of("does/not/exist"));
    Files.createSymbolicLink(d.resolve("dirlink"), Path.of("dir"));
    Files.createSymbolicLink(d.resolve("self"), Path.of("self"));
    // hard links: three names of one inode, one in another directory, one whose first name is ignored
    write(d.resolve("h1"), "hard");
    Files.createLink(d.resolve("h2"), d.resolve("h1"));
    Files.createLink(d.resolve("dir/h3"), d.resolve("h1"));
    write(d.resolve("aaa-ignored"), "second inode");
    Files.createLink(d.resolve("zzz-kept"), d.resolve("aaa-ignored"));
    Files.writeString(d.resolve(".dockerignore"), "aaa-ignored\n");
    chmod(d.resolve("h1"), "750");
  }

  private static void owners(Path d, Engine engine) throws Exception {
    write(d.resolve("u1000"), "a");
    write(d.resolve("u12345"), "b");
    write(d.resolve("dir/inner"), "c");
    Files.createSymbolicLink(d.resolve("link"), Path.of("u1000"));
    Cli.ok(d, "chown", "1000:1000", "u1000");
    Cli.ok(d, "chown", "12345:54321", "u12345");
    Cli.ok(d, "chown", "-R", "1000:12345", "dir");
    Cli.ok(d, "chown", "-h", "12345:12345", "link");
  }

  private static void times(Path d, Engine engine) throws Exception {
    write(d.resolve("old"), "o");
    write(d.resolve("ns"), "n");
    write(d.resolve("future"), "f");
    write(d.resolve("dir/inner"), "i");
    Files.createSymbolicLink(d.resolve("link"), Path.of("ns"));
    setTime(d.resolve("old"), Instant.ofEpochSecond(1));
    setTime(d.resolve("ns"), Instant.ofEpochSecond(1_600_000_000L, 123_456_789));
    setTime(d.resolve("future"), Instant.ofEpochSecond(4_102_444_800L, 999_999_999));
    setTime(d.resolve("dir/inner"), Instant.ofEpochSecond(1_234_567_890L, 1));
    setTime(d.resolve("dir"), Instant.ofEpochSecond(1_500_000_000L, 500));
    Cli.ok(d, "touch", "-h", "-d", "@1400000000.25", "link");
  }

  private static void trees(Path d, Engine engine) throws Exception {
    Files.createDirectories(d.resolve("empty"));
    Files.createDirectories(d.resolve("nested/empty/dirs/all/the/way"));
    Path deep = d.resolve("deep");
    for (int i = 0; i < 60; i++) {
      deep = deep.resolve("l" + i);
    }
    write(deep.resolve("bottom"), "bottom");
    for (int i = 0; i < 200; i++) {
      write(d.resolve("wide/f" + i), Integer.toString(i));
    }
  }

  private static void specialFiles(Path d, Engine engine) throws Exception {
    write(d.resolve("plain"), "p");
    Cli.ok(d, "mkfifo", "fifo");
    Cli.ok(d, "mknod", "null", "c", "1", "3");
    try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      s.bind(UnixDomainSocketAddress.of(d.resolve("sock")));
    }
    write(d.resolve("xattr"), "x");
    UserDefinedFileAttributeView v = Files.getFileAttributeView(d.resolve("xattr"),
        UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
    v.write("byop.test", ByteBuffer.wrap("value".getBytes(StandardCharsets.UTF_8)));
    write(d.resolve("cap"), "c");
    Cli.ok(d, "setcap", "cap_net_raw+ep", "cap");
  }

  private static void write(Path f, String content) throws IOException {
    Files.createDirectories(f.getParent());
    Files.writeString(f, content);
  }

  private static void chmod(Path f, String octal) {
    Cli.ok(f.getParent(), "chmod", octal, f.getFileName().toString());
  }

  private static void setTime(Path f, Instant t) throws IOException {
    Files.setLastModifiedTime(f, FileTime.from(t));
  }
}
