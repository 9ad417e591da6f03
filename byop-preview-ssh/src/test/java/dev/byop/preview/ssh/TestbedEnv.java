package dev.byop.preview.ssh;

import java.io.IOException;
import dev.byop.testing.Testbed;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The bed (through {@code dev.byop.testing.Testbed}) in the shapes this module's tests need. */
final class TestbedEnv {

  /**
   * This test run's suffix for every name it creates on the shared bed (images, previews, routes, ports), so that two
   * runs of these tests at once (a helper's and the lead's CI) never touch each other's resources.
   */
  static final String RUN = Long.toHexString(new java.security.SecureRandom().nextLong() & 0xffffffL | 0x1000000L).substring(1);

  /** A seed unique to this run, so that filler layers never collide with another run's. */
  static long seed(long base) {
    return base * 1_000_003L + Long.parseLong(RUN, 16);
  }

  final Testbed testbed;

  private TestbedEnv(Testbed testbed) {
    this.testbed = testbed;
  }

  static TestbedEnv load() {
    return new TestbedEnv(Testbed.get());
  }

  String get(String key) {
    return testbed.value(key);
  }

  Path key() {
    return testbed.privateKey();
  }

  Path knownHosts() {
    return testbed.knownHosts();
  }

  SshHost vps(int n) {
    Testbed.SshHost h = testbed.vps(n);
    return new SshHost(h.address(), h.port(), h.user(), SshKey.file(h.privateKey()), HostKeyPolicy.knownHosts(h.knownHosts()));
  }

  String vpsHome(int n) {
    return get("VPS" + n + "_HOME");
  }

  Path caddyBinary() {
    return testbed.caddy().binary();
  }

  String vpsDockerHost(int n) {
    return testbed.vps(n).dockerHost();
  }

  String dockerCli() {
    return testbed.dockerCli().toString();
  }

  String localDockerHost() {
    return testbed.dockerHost();
  }

  String baseImage() {
    return testbed.baseImage();
  }

  /** The local engine through the Engine API (the default). */
  LocalImages localImages() {
    return new EngineLocalImages(dev.byop.docker.DockerClient.connect(dev.byop.docker.DockerEndpoint.parse(localDockerHost())));
  }

  /** The local engine through the docker CLI (the fallback source). */
  LocalImages cliLocalImages() {
    return new DockerCliLocalImages(Path.of(dockerCli()), localDockerHost());
  }

  /** Runs a local command (argument list) and returns its output; fails on non-zero exit. */
  static String run(List<String> cmd, Map<String, String> extraEnv) {
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().putAll(extraEnv);
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IllegalStateException("timed out: " + cmd);
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(cmd + " exited " + p.exitValue() + ": " + out);
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** docker CLI against the local engine. */
  String docker(String... args) {
    List<String> cmd = new java.util.ArrayList<>();
    cmd.add(dockerCli());
    cmd.addAll(List.of(args));
    return run(cmd, Map.of("DOCKER_HOST", localDockerHost(), "DOCKER_BUILDKIT", "1"));
  }

  /** docker CLI against VPS n's engine directly (test set-up and clean-up only; the code under test uses SSH). */
  String vpsDocker(int n, String... args) {
    List<String> cmd = new java.util.ArrayList<>();
    cmd.add(dockerCli());
    cmd.addAll(List.of(args));
    return run(cmd, Map.of("DOCKER_HOST", vpsDockerHost(n)));
  }

  /**
   * Builds {@code tag} in the context directory {@code ctx}: the bed's base image, a filler layer of {@code fillerBytes}
   * seeded random bytes (written once, so rebuilds reuse the cached layer) and a small text layer {@code app}.
   */
  String buildImage(String tag, Path ctx, int fillerBytes, long seed, String app) {
    return buildImage(tag, ctx, fillerBytes, seed, app, 8080);
  }

  /** As above, the image's httpd serving {@code /} on {@code port}. */
  String buildImage(String tag, Path ctx, int fillerBytes, long seed, String app, int port) {
    try {
      Files.createDirectories(ctx);
      Path f = ctx.resolve("filler.bin");
      if (!Files.exists(f) || Files.size(f) != fillerBytes) {
        byte[] filler = new byte[fillerBytes];
        new java.util.Random(seed).nextBytes(filler);
        Files.write(f, filler);
      }
      Files.writeString(ctx.resolve("app.txt"), app);
      Files.writeString(ctx.resolve("Dockerfile"), "FROM " + baseImage() + "\nCOPY filler.bin /filler.bin\nCOPY app.txt /app.txt\n"
          + "CMD [\"httpd\", \"-f\", \"-p\", \"" + port + "\", \"-h\", \"/\"]\n");
      docker("build", "-q", "-t", tag, ctx.toString());
      return tag;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Removes a directory tree this test created. */
  static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Removes local images this test built (ignoring ones already gone). */
  void removeLocal(String... refs) {
    for (String r : refs) {
      try {
        docker("image", "rm", r);
      } catch (IllegalStateException gone) {
        // not there
      }
    }
  }

  /**
   * Pushes local image {@code image} to the bed's registry as {@code <registry>/<repoAndTag>}, logging in with a private
   * DOCKER_CONFIG (the shared ~/.docker/config.json is never written). Returns the pushed reference.
   */
  String pushToRegistry(String image, String repoAndTag) {
    var reg = testbed.registry();
    String target = reg.address() + "/" + repoAndTag;
    Path cfg;
    try {
      cfg = Files.createTempDirectory("byop-it-ssh-dockercfg");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    try {
      Map<String, String> env = Map.of("DOCKER_HOST", localDockerHost(), "DOCKER_CONFIG", cfg.toString());
      ProcessBuilder pb = new ProcessBuilder(dockerCli(), "login", "--username", reg.user(), "--password-stdin", reg.address())
          .redirectErrorStream(true);
      pb.environment().putAll(env);
      Process login = pb.start();
      login.getOutputStream().write(reg.password().getBytes(StandardCharsets.UTF_8));
      login.getOutputStream().close();
      login.getInputStream().readAllBytes();
      if (login.waitFor() != 0) {
        throw new IllegalStateException("docker login to the bed registry failed");
      }
      docker("tag", image, target);
      run(List.of(dockerCli(), "push", target), env);
      return target;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } finally {
      deleteTree(cfg);
    }
  }
}
