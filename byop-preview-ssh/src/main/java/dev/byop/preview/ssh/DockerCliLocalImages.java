package dev.byop.preview.ssh;

import org.jspecify.annotations.Nullable;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@link LocalImages} through the {@code docker} CLI (argument lists, no shell), streaming {@code docker save} to stdout.
 *
 * <p>Stands in until the {@code byop-docker} Engine API client ({@code GET /images/{name}/get}) is available.
 */
final class DockerCliLocalImages implements LocalImages {

  private final Path docker;
  private final @Nullable String dockerHost;

  /**
   * @param docker the CLI binary, e.g. {@code /usr/bin/docker}
   * @param dockerHost value for {@code DOCKER_HOST}, or null to inherit the environment's
   */
  DockerCliLocalImages(Path docker, @Nullable String dockerHost) {
    this.docker = docker;
    this.dockerHost = dockerHost;
  }

  private ProcessBuilder pb(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(docker.toString());
    cmd.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    if (dockerHost != null) {
      Map<String, String> env = pb.environment();
      env.put("DOCKER_HOST", dockerHost);
    }
    return pb;
  }

  @Override
  public LocalImage inspect(String reference) throws IOException {
    Process p = pb("image", "inspect", "--format", "{{.Id}} {{.Created}}{{range .RootFS.Layers}} {{.}}{{end}}", reference)
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    int code = waitFor(p);
    if (code != 0) {
      throw new SshException("local image '" + reference + "' cannot be inspected (docker exit " + code + "): " + out);
    }
    String[] parts = out.split("\\s+");
    return new LocalImage(reference, parts[0], List.of(Arrays.copyOfRange(parts, 2, parts.length)), parts[1]);
  }

  @Override
  public InputStream save(String reference) throws IOException {
    Process p = pb("save", reference).redirectError(ProcessBuilder.Redirect.PIPE).start();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Thread t = new Thread(() -> {
      try {
        p.getErrorStream().transferTo(err);
      } catch (IOException ignored) {
        // process gone
      }
    }, "byop-docker-save-stderr");
    t.setDaemon(true);
    t.start();
    return new FilterInputStream(p.getInputStream()) {
      private boolean eofChecked;

      @Override
      public int read() throws IOException {
        int b = super.read();
        if (b < 0) {
          checkExit();
        }
        return b;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n < 0) {
          checkExit();
        }
        return n;
      }

      private void checkExit() throws IOException {
        if (eofChecked) {
          return;
        }
        eofChecked = true;
        int code = waitFor(p);
        if (code != 0) {
          throw new IOException("docker save " + reference + " exited " + code + ": " + err.toString(StandardCharsets.UTF_8).strip());
        }
      }

      @Override
      public void close() throws IOException {
        super.close();
        if (p.isAlive()) {
          p.destroy();
        }
      }
    };
  }

  private static int waitFor(Process p) throws IOException {
    try {
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IOException("docker CLI did not finish within 5 minutes");
      }
      return p.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException("interrupted waiting for docker", e);
    }
  }
}
