package dev.byop.preview.ssh;

import dev.byop.core.PreviewException;
import dev.byop.core.ValidationException;
import dev.byop.core.internal.BoundedReads;
import dev.byop.core.internal.Checks;
import dev.byop.core.spi.Cancellation;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.LogSink;
import dev.byop.preview.compose.CommandResult;
import dev.byop.preview.compose.PreviewHost;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import net.schmizz.sshj.connection.channel.direct.DirectConnection;
import org.jspecify.annotations.Nullable;

/**
 * A {@link PreviewHost} reached over SSH: commands are exec requests of the argument list quoted by
 * {@link dev.byop.core.internal.ShellQuote}, files go over SFTP, and {@link #connect} is a {@code direct-tcpip}
 * channel, so a router's admin API or a probe reaches the host's own loopback without any port being exposed.
 *
 * <p>Everything it writes or removes lies under {@link #workDir}: the configured base directory
 * ({@code preview.baseDir}, relative to the login's home unless absolute).
 */
final class SshPreviewHost implements PreviewHost {
  /** Closes the probe and admin channels of every SSH host at their deadline. */
  private static final ScheduledExecutorService DEADLINES = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "byop-ssh-deadlines");
    t.setDaemon(true);
    return t;
  });

  private final CloudProvider.RemoteHost remote;
  private final SshHost ssh;
  private final SshConnections pool;
  private final String baseDir;
  private final List<String> docker;
  private volatile @Nullable String workDir;

  /**
   * @param remote the cloud provider's host
   * @param pool the connections it is reached through
   * @param baseDir where compose projects live on it; relative to the login's home unless absolute
   * @param docker the docker CLI invocation on it
   */
  SshPreviewHost(CloudProvider.RemoteHost remote, SshConnections pool, String baseDir, List<String> docker) {
    this.remote = remote;
    this.ssh = SshHost.of(remote);
    this.pool = pool;
    this.baseDir = baseDir;
    this.docker = List.copyOf(docker);
  }

  /** The cloud provider's host behind it. */
  CloudProvider.RemoteHost remote() {
    return remote;
  }

  /** The SSH endpoint. */
  SshHost ssh() {
    return ssh;
  }

  @Override
  public String id() {
    return remote.id();
  }

  @Override
  public String address() {
    return remote.address();
  }

  @Override
  public List<String> docker() {
    return docker;
  }

  /** Over {@code docker system dial-stdio} channels of the host's pooled connection, run by its docker command. */
  @Override
  public Optional<dev.byop.docker.DockerClient> engine() {
    return Optional.of(pool.get(ssh).engine(docker));
  }

  @Override
  public String workDir() {
    String w = workDir;
    if (w == null) {
      String base = baseDir.endsWith("/") && baseDir.length() > 1 ? baseDir.substring(0, baseDir.length() - 1) : baseDir;
      w = base.startsWith("/") ? base : pool.get(ssh).home() + "/" + base;
      workDir = w;
    }
    return w;
  }

  @Override
  public CommandResult run(List<String> argv, LogSink output, Duration timeout, Cancellation cancellation) {
    if (argv.isEmpty()) {
      throw new ValidationException("argv", "[]", "a command needs at least one word");
    }
    BoundedReads.LineList lines = new BoundedReads.LineList(BoundedReads.MAX_LINES);
    // stdout and stderr interleaved as they come, each line cut at the bound the log keeps whole
    java.util.function.Consumer<String> sink = line -> {
      lines.add(line);
      output.line(line);
    };
    ExecResult r = pool.get(ssh).exec(argv, StdinSource.NONE, sink, sink, timeout, BoundedReads.MAX_LINE_BYTES,
        cancellation);
    return new CommandResult(r.exitCode(), lines.snapshot());
  }

  @Override
  public void write(String path, byte[] content, int mode) {
    if ((mode & ~0777) != 0) {
      throw new ValidationException("mode", Integer.toOctalString(mode), "must be permission bits (at most 0777)");
    }
    String file = underWorkDir("path", path);
    SshConnection c = pool.get(ssh);
    String parent = file.substring(0, file.lastIndexOf('/'));
    c.mkdirs(parent, 0700);
    // the work directory and everything from it down to the file are kept 0700, even when they existed wider
    String root = workDir();
    for (String dir = parent; dir.length() >= root.length(); dir = dir.substring(0, dir.lastIndexOf('/'))) {
      c.chmod(dir, 0700);
    }
    c.write(file, content, mode);
  }

  @Override
  public Optional<byte[]> read(String path, int maxBytes) {
    String file = underWorkDir("path", path);
    return Optional.ofNullable(pool.get(ssh).download(file, maxBytes));
  }

  @Override
  public void delete(String path) {
    String dir = underWorkDir("path", path);
    SshConnection c = pool.get(ssh);
    ExecResult r = c.exec(List.of("rm", "-rf", "--", dir), StdinSource.NONE, null, pool.options().commandTimeout());
    if (!r.ok()) {
      throw new PreviewException("removing " + dir + " on " + id() + " exited " + r.exitCode() + ": " + r.stderrTail().strip());
    }
  }

  /**
   * {@code path} as an absolute path strictly under the work directory (a relative one is taken from there); a path
   * with {@code .} or {@code ..} segments, empty segments or control characters is refused, so nothing outside it is
   * ever written or removed.
   */
  String underWorkDir(String field, String path) {
    Checks.notBlank(field, path);
    String root = workDir();
    String abs = path.startsWith("/") ? path : root + "/" + path;
    if (abs.chars().anyMatch(ch -> ch < ' ' || ch == 0x7f)) {
      throw new ValidationException(field, Checks.printable(path), "must not contain control characters");
    }
    String rest = abs.startsWith(root + "/") ? abs.substring(root.length() + 1) : null;
    if (rest == null || rest.isEmpty()) {
      throw new ValidationException(field, Checks.printable(path), "must lie under the preview work directory " + root);
    }
    for (String segment : rest.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw new ValidationException(field, Checks.printable(path),
            "must be a plain path under " + root + " (no empty, '.' or '..' segments)");
      }
    }
    return abs;
  }

  @Override
  public Connection connect(String host, int port, Duration timeout) {
    Checks.port("port", port);
    long deadline = System.nanoTime() + timeout.toNanos();
    DirectConnection channel = pool.get(ssh).open(host, port);
    ScheduledFuture<?> cut = DEADLINES.schedule(() -> closeQuietly(channel), Math.max(0, deadline - System.nanoTime()),
        TimeUnit.NANOSECONDS);
    InputStream in = new InputStream() {
      private final InputStream raw = channel.getInputStream();

      private int checked(int n) throws IOException {
        if (n < 0 && System.nanoTime() - deadline >= 0) {
          throw new SocketTimeoutException("no complete answer from " + host + ":" + port + " via " + id() + " within "
              + timeout);
        }
        return n;
      }

      @Override
      public int read() throws IOException {
        try {
          return checked(raw.read());
        } catch (IOException e) {
          checked(-1);
          throw e;
        }
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        try {
          return checked(raw.read(b, off, len));
        } catch (IOException e) {
          checked(-1);
          throw e;
        }
      }
    };
    return Connection.of(in, channel.getOutputStream(), () -> {
      cut.cancel(false);
      closeQuietly(channel);
    });
  }

  private static void closeQuietly(DirectConnection channel) {
    try {
      channel.close();
    } catch (IOException | RuntimeException e) {
      // already closed, or the connection is gone
    }
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof SshPreviewHost h && h.remote.equals(remote) && h.baseDir.equals(baseDir);
  }

  @Override
  public int hashCode() {
    return remote.hashCode();
  }

  @Override
  public String toString() {
    return "SshPreviewHost[" + id() + " " + ssh.label() + "]";
  }
}
