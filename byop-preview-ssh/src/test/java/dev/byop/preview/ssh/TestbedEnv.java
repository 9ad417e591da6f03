package dev.byop.preview.ssh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The test bed's VPS hosts as this module's tests need them, read from the bed's env file.
 *
 * <p>Stands in for {@code dev.byop.testing.Testbed} until that lands on main; the file location comes from
 * {@code BYOP_TESTBED_ENV} (default: the bed's documented state directory).
 */
final class TestbedEnv {

    final Map<String, String> env;

    private TestbedEnv(Map<String, String> env) {
        this.env = env;
    }

    static TestbedEnv load() {
        Path p = Path.of(System.getenv().getOrDefault("BYOP_TESTBED_ENV", "/tmp/byop-testbed/env"));
        try {
            Map<String, String> m = new HashMap<>();
            for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
                int eq = line.indexOf('=');
                if (eq > 0 && !line.startsWith("#")) {
                    m.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
                }
            }
            return new TestbedEnv(m);
        } catch (IOException e) {
            throw new IllegalStateException("test bed env " + p + " unreadable; start it with scripts/testbed start", e);
        }
    }

    String get(String key) {
        String v = env.get(key);
        if (v == null) {
            throw new IllegalStateException("test bed env has no " + key);
        }
        return v;
    }

    Path key() {
        return Path.of(get("TESTBED_KEY"));
    }

    Path knownHosts() {
        return Path.of(get("TESTBED_KNOWN_HOSTS"));
    }

    SshHost vps(int n) {
        return new SshHost(get("VPS" + n + "_ADDRESS"), Integer.parseInt(get("VPS" + n + "_SSH_PORT")), get("VPS" + n + "_USER"),
                SshKey.file(key()), HostKeyPolicy.knownHosts(knownHosts()));
    }

    String vpsDockerHost(int n) {
        return get("VPS" + n + "_DOCKER_HOST");
    }

    String dockerCli() {
        return env.getOrDefault("DOCKER_CLI", "/usr/bin/docker");
    }

    String localDockerHost() {
        return get("DOCKER_HOST");
    }

    String baseImage() {
        return get("BASE_IMAGE");
    }

    LocalImages localImages() {
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
}
