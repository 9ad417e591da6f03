package dev.byop.preview.ssh;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Where shipping time goes, step by step, on the bed's vps1: SSH connect, an exec round trip, a remote inspect, the
 * local inspect and save, raw sshj throughput into {@code cat > /dev/null} against scp of the same bytes. Prints one
 * {@code STEP name ms} line per measurement. Run as a main with the test classpath (needs the test bed).
 */
public final class ShipTimeline {

  public static void main(String[] args) throws Exception {
    int mb = Integer.getInteger("bench.fillerMb", 64);
    BenchSupport bed = BenchSupport.load();
    Path ctx = Files.createTempDirectory("byop-timeline");
    String v1 = "byop-it-ssh/timeline:v1";
    bed.build(v1, ctx, mb * 1024 * 1024, 99, "version 1\n");
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      long t = System.nanoTime();
      SshConnection c = pool.get(bed.vps1());
      step("connect", t);
      for (int i = 0; i < 3; i++) {
        t = System.nanoTime();
        c.exec(List.of("true"), StdinSource.NONE, null, java.time.Duration.ofSeconds(30));
        step("exec-true", t);
      }
      for (int i = 0; i < 3; i++) {
        t = System.nanoTime();
        c.exec(List.of("docker", "image", "inspect", "--format", "{{.Id}}", v1), StdinSource.NONE, null, java.time.Duration.ofSeconds(30));
        step("exec-docker-inspect", t);
      }
      t = System.nanoTime();
      c.exec(List.of("docker", "info", "--format", "{{json .DriverStatus}}"), StdinSource.NONE, null, java.time.Duration.ofSeconds(30));
      step("exec-docker-info", t);
      t = System.nanoTime();
      c.exec(List.of("docker", "image", "ls", "--quiet", "--no-trunc"), StdinSource.NONE, null, java.time.Duration.ofSeconds(30));
      step("exec-docker-ls", t);
      t = System.nanoTime();
      c.home();
      step("sftp-home", t);
      LocalImages local = bed.localImages();
      for (int i = 0; i < 2; i++) {
        t = System.nanoTime();
        local.inspect(v1);
        step("local-inspect", t);
      }
      for (int i = 0; i < 2; i++) {
        t = System.nanoTime();
        long n;
        try (InputStream in = local.save(v1)) {
          n = in.transferTo(OutputStream.nullOutputStream());
        }
        step("local-save-engine(" + n + ")", t);
      }
      byte[] chunk = new byte[1 << 20];
      new java.util.Random(1).nextBytes(chunk);
      for (int buf : new int[] {8192, 65536, 1 << 20}) {
        t = System.nanoTime();
        c.exec(List.of("sh", "-c", "cat >/dev/null"), out -> {
          for (int i = 0; i < mb; i++) {
            for (int off = 0; off < chunk.length; off += buf) {
              out.write(chunk, off, Math.min(buf, chunk.length - off));
            }
          }
        }, null, java.time.Duration.ofMinutes(5));
        step("sshj-cat-" + mb + "MB-writes" + buf, t);
      }
      Path f = ctx.resolve("blob");
      try (OutputStream o = Files.newOutputStream(f)) {
        for (int i = 0; i < mb; i++) {
          o.write(chunk);
        }
      }
      SshHost h = bed.vps1();
      TestbedEnv env = TestbedEnv.load();
      t = System.nanoTime();
      TestbedEnv.run(List.of("scp", "-q", "-i", env.key().toString(), "-o", "UserKnownHostsFile=" + env.knownHosts(), "-o", "BatchMode=yes",
          f.toString(), h.user() + "@" + h.address() + ":/dev/null"), java.util.Map.of());
      step("scp-" + mb + "MB", t);
      t = System.nanoTime();
      TestbedEnv.run(List.of("ssh", "-i", env.key().toString(), "-o", "UserKnownHostsFile=" + env.knownHosts(), "-o", "BatchMode=yes",
          h.user() + "@" + h.address(), "true"), java.util.Map.of());
      step("ssh-true(connect+exec)", t);
    } finally {
      bed.removeLocal(v1);
      bed.deleteTree(ctx);
    }
  }

  private static void step(String name, long t0) {
    System.out.printf(Locale.ROOT, "STEP %-40s %8.1f ms%n", name, (System.nanoTime() - t0) / 1e6);
  }

  private ShipTimeline() {}
}
