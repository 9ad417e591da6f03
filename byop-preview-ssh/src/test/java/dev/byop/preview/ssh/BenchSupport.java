package dev.byop.preview.ssh;

import dev.byop.core.internal.ShellQuote;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Bed access for the bench in {@code bench/} (kept in this package to reuse the package-private bed reader). */
public final class BenchSupport {

  private final TestbedEnv bed;

  private BenchSupport(TestbedEnv bed) {
    this.bed = bed;
  }

  public static BenchSupport load() {
    return new BenchSupport(TestbedEnv.load());
  }

  public SshHost vps1() {
    return bed.vps(1);
  }

  public LocalImages localImages() {
    return bed.localImages();
  }

  public void build(String tag, Path ctx, int fillerBytes, long seed, String app) {
    bed.buildImage(tag, ctx, fillerBytes, seed, app);
  }

  public void removeOnVps(String... refs) {
    for (String r : refs) {
      try {
        bed.vpsDocker(1, "image", "rm", "-f", r);
      } catch (IllegalStateException absent) {
        // not there
      }
    }
  }

  public void removeLocal(String... refs) {
    for (String r : refs) {
      bed.docker("image", "rm", "-f", r);
    }
  }

  /** The seed's way, timed end to end: save to a file, scp it, load it remotely, remove both files. {bytes, nanos}. */
  public long[] seedWay(String image) throws IOException {
    SshHost h = bed.vps(1);
    List<String> sshOpts = List.of("-i", bed.key().toString(), "-o", "UserKnownHostsFile=" + bed.knownHosts(), "-o", "BatchMode=yes");
    Path dir = Files.createTempDirectory("byop-bench-seed");
    Path file = dir.resolve("image.tar");
    String remote = "/tmp/byop-bench-seed-" + ProcessHandle.current().pid() + ".tar";
    long t0 = System.nanoTime();
    bed.docker("save", "-o", file.toString(), image);
    long bytes = Files.size(file);
    List<String> scp = new java.util.ArrayList<>(List.of("scp", "-q"));
    scp.addAll(sshOpts);
    scp.addAll(List.of(file.toString(), h.user() + "@" + h.address() + ":" + remote));
    TestbedEnv.run(scp, Map.of());
    List<String> load = new java.util.ArrayList<>(List.of("ssh"));
    load.addAll(sshOpts);
    load.addAll(List.of(h.user() + "@" + h.address(), ShellQuote.command("docker", "load", "-i", remote)));
    TestbedEnv.run(load, Map.of());
    List<String> rm = new java.util.ArrayList<>(List.of("ssh"));
    rm.addAll(sshOpts);
    rm.addAll(List.of(h.user() + "@" + h.address(), ShellQuote.command("rm", "-f", remote)));
    TestbedEnv.run(rm, Map.of());
    Files.delete(file);
    long t1 = System.nanoTime();
    Files.delete(dir);
    return new long[] {bytes, t1 - t0};
  }

  public void deleteTree(Path dir) {
    TestbedEnv.deleteTree(dir);
  }
}
