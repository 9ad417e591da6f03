package dev.byop.preview.ssh;

import dev.byop.core.CancelledException;
import dev.byop.core.internal.ShellQuote;
import dev.byop.core.spi.Cancellation;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import net.schmizz.sshj.SSHClient;
import net.schmizz.sshj.connection.channel.direct.DirectConnection;
import net.schmizz.sshj.connection.channel.direct.Session;
import net.schmizz.sshj.sftp.FileAttributes;
import net.schmizz.sshj.sftp.OpenMode;
import net.schmizz.sshj.sftp.RemoteFile;
import net.schmizz.sshj.sftp.SFTPClient;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One authenticated SSH connection to a host, shared by concurrent commands (each on its own channel): exec of an
 * argument list quoted by {@link ShellQuote}, SFTP file access, and {@code direct-tcpip} streams to ports the host
 * reaches. Obtained from {@link SshConnections}.
 */
final class SshConnection implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SshConnection.class);
  private static final int STDERR_TAIL = 4096;
  /** Longest line kept from the output a command's result collects (byop's own parsing of docker's answers). */
  static final int MAX_LINE = 64 * 1024;
  /** Most output collected into memory from one command; a command printing more is stopped. */
  static final int MAX_COLLECTED = 4 * 1024 * 1024;
  /** Largest remote file {@link #download} reads into memory by default. */
  static final int MAX_DOWNLOAD = 4 * 1024 * 1024;

  private final SshHost host;
  private final SSHClient client;
  private final SshOptions options;
  private volatile @Nullable String home;
  /** The host's Docker Engine API per docker command, over {@code docker system dial-stdio} channels of this connection. */
  private final java.util.concurrent.ConcurrentHashMap<List<String>, dev.byop.docker.DockerClient> engines =
      new java.util.concurrent.ConcurrentHashMap<>();

  SshConnection(SshHost host, SSHClient client, SshOptions options) {
    this.host = host;
    this.client = client;
    this.options = options;
  }

  /** The host this connection talks to. */
  SshHost host() {
    return host;
  }

  /** The TCP socket under the transport (for the pool's dead-link watchdog). */
  java.net.Socket socket() {
    return client.getSocket();
  }

  /** True while the transport is up and authenticated. */
  boolean isAlive() {
    return client.isConnected() && client.isAuthenticated();
  }

  /** Runs a command with no input, within the command timeout; a non-zero exit raises {@link RemoteCommandException}. */
  ExecResult run(List<String> argv) {
    return check(argv, exec(argv, StdinSource.NONE, null, options.commandTimeout()));
  }

  /** Runs a command feeding {@code stdin} (the only way secrets reach a remote command); non-zero exit raises. */
  ExecResult run(List<String> argv, StdinSource stdin) {
    return check(argv, exec(argv, stdin, null, options.commandTimeout()));
  }

  private ExecResult check(List<String> argv, ExecResult r) {
    if (!r.ok()) {
      throw new RemoteCommandException(host.label(), argv, r.exitCode(), r.stderrTail());
    }
    return r;
  }

  /**
   * Runs a command, writing its input from {@code stdin} on the calling thread while its output is read.
   *
   * @param stdoutLines receives stdout line by line; when null, stdout is collected into the result
   * @return the exit status (a timeout or lost channel raises instead)
   * @throws SshException when the connection breaks (the pool then drops this connection)
   */
  ExecResult exec(List<String> argv, StdinSource stdin, @Nullable Consumer<String> stdoutLines, Duration timeout) {
    return exec(argv, stdin, stdoutLines, null, timeout);
  }

  /** As {@link #exec(List, StdinSource, Consumer, Duration)}, also streaming stderr line by line (its tail is still kept). */
  ExecResult exec(List<String> argv, StdinSource stdin, @Nullable Consumer<String> stdoutLines,
      @Nullable Consumer<String> stderrLines, Duration timeout) {
    return exec(argv, stdin, stdoutLines, stderrLines, timeout, MAX_LINE, Cancellation.none());
  }

  /**
   * The general form: output lines are cut at {@code maxLine} bytes with a visible marker; when {@code cancellation}
   * fires, the channel is closed (the remote command ends at its next write, or on SIGPIPE) and
   * {@link CancelledException} is raised.
   */
  ExecResult exec(List<String> argv, StdinSource stdin, @Nullable Consumer<String> stdoutLines,
      @Nullable Consumer<String> stderrLines, Duration timeout, int maxLine, Cancellation cancellation) {
    Objects.requireNonNull(stdin, "stdin");
    String line = ShellQuote.command(argv);
    long began = System.nanoTime();
    long deadline = began + timeout.toNanos();
    cancellation.throwIfCancelled();
    Session session = null;
    Session.@Nullable Command started = null;
    java.util.concurrent.atomic.AtomicBoolean stopped = new java.util.concurrent.atomic.AtomicBoolean();
    try {
      session = client.startSession();
      Session opened = session;
      Session.Command cmd = session.exec(line);
      started = cmd;
      try (AutoCloseable onCancel = cancellation.onCancel(() -> stop(cmd, opened, stopped))) {
        Drain outDrain = new Drain(stdoutLines, Integer.MAX_VALUE, maxLine);
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> outDrain.read(cmd.getInputStream()), daemonExecutor());
        CompletableFuture<String> err = CompletableFuture.supplyAsync(
            () -> new Drain(stderrLines, STDERR_TAIL, maxLine).read(cmd.getErrorStream()), daemonExecutor());
        try (OutputStream in = cmd.getOutputStream()) {
          stdin.writeTo(in);
          in.flush();
        } catch (IOException e) {
          if (!client.isConnected()) {
            throw e;
          }
          // the remote stopped reading early (it failed or finished): its exit status tells what happened
          LOG.debug("remote {} stopped reading stdin of {}", host.label(), argv.get(0), e);
        }
        String stdout = out.get(remaining(deadline), TimeUnit.NANOSECONDS);
        if (outDrain.overflowed()) {
          stop(cmd, session, stopped);
          throw new RemoteCommandException(host.label(), argv, -1, "printed more than " + MAX_COLLECTED + " bytes on stdout; stopped");
        }
        String stderr = err.get(remaining(deadline), TimeUnit.NANOSECONDS);
        cmd.join(Math.max(1, remaining(deadline)), TimeUnit.NANOSECONDS);
        cancellation.throwIfCancelled();
        Integer status = cmd.getExitStatus();
        if (status == null) {
          if (!client.isConnected()) {
            throw new SshException("connection to " + host.label() + " lost during " + argv);
          }
          throw new RemoteCommandException(host.label(), argv, -1,
              stderr + (cmd.getExitSignal() != null ? " (signal " + cmd.getExitSignal() + ")" : ""));
        }
        return new ExecResult(status, stdout, stderr);
      }
    } catch (TimeoutException e) {
      if (started != null && session != null) {
        stop(started, session, stopped);
      }
      cancellation.throwIfCancelled();
      throw new RemoteCommandException(host.label(), argv, -1, "no result within " + timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      if (started != null && session != null) {
        stop(started, session, stopped);
      }
      throw new SshException("interrupted while running " + argv + " on " + host.label(), e);
    } catch (ExecutionException e) {
      cancellation.throwIfCancelled();
      throw new SshException("reading the output of " + argv + " on " + host.label() + " failed", e.getCause());
    } catch (IOException e) {
      cancellation.throwIfCancelled();
      throw new SshException("connection to " + host.label() + " failed during " + argv + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      // only the cancellation handle's close declares Exception
      throw new SshException("running " + argv + " on " + host.label() + " failed: " + e.getMessage(), e);
    } finally {
      if (session != null && !stopped.get()) {
        closeQuietly(session);
      }
      if (LOG.isDebugEnabled()) {
        LOG.debug("exec on {}: {} ({} ms)", host.label(), verb(argv), (System.nanoTime() - began) / 1_000_000);
      }
    }
  }

  /**
   * What an exec did, for the debug log that profiles remote round trips: the command word and at most three plain
   * lowercase words after it that are neither options nor an option's value ({@code docker image inspect},
   * {@code docker-compose up}); never a path, a script, an image name with a tag or any other argument, which may be
   * sensitive.
   */
  static String verb(List<String> argv) {
    if (argv.isEmpty()) {
      return "";
    }
    String first = argv.get(0);
    StringBuilder b = new StringBuilder(first.matches("[A-Za-z0-9._/-]{1,64}") ? first.substring(first.lastIndexOf('/') + 1) : "?");
    int words = 0;
    boolean optionValue = false;
    for (int i = 1; i < argv.size() && words < 3; i++) {
      String w = argv.get(i);
      if (w.startsWith("--") && !w.equals("--")) {
        // a long option without '=' may take the next word as its value (--project-name x, --format y): skipped
        optionValue = !w.contains("=");
        continue;
      }
      if (w.startsWith("-")) {
        // a short option may or may not take a value (-e NAME=secret, -q): nothing after it is shown
        break;
      }
      if (optionValue) {
        optionValue = false;
        continue;
      }
      if (!w.matches("[a-z][a-z-]{0,31}")) {
        break;
      }
      b.append(' ').append(w);
      words++;
    }
    return b.toString();
  }

  private void sftpDebug(String op, long began) {
    if (LOG.isDebugEnabled()) {
      LOG.debug("sftp on {}: {} ({} ms)", host.label(), op, (System.nanoTime() - began) / 1_000_000);
    }
  }

  /**
   * Stops a command that must not run on: TERM to the remote process (sshd delivers {@code signal} requests), then
   * the channel is closed off the caller's thread, since sshd confirms the close only once the process is gone and
   * the caller must not wait for that (a process ignoring TERM ends at its next write, on SIGPIPE).
   */
  private void stop(Session.Command cmd, Session session, java.util.concurrent.atomic.AtomicBoolean stopped) {
    if (!stopped.compareAndSet(false, true)) {
      return;
    }
    try {
      cmd.signal(net.schmizz.sshj.connection.channel.direct.Signal.TERM);
    } catch (IOException | RuntimeException e) {
      LOG.debug("signalling {} on {}", cmd, host.label(), e);
    }
    daemonExecutor().execute(() -> closeQuietly(session));
  }

  private void closeQuietly(Session session) {
    try {
      session.close();
    } catch (IOException e) {
      LOG.debug("closing channel on {}", host.label(), e);
    }
  }

  private static long remaining(long deadline) {
    return Math.max(0, deadline - System.nanoTime());
  }

  private static java.util.concurrent.Executor daemonExecutor() {
    return r -> {
      Thread t = new Thread(r, "byop-ssh-io");
      t.setDaemon(true);
      t.start();
    };
  }

  /**
   * Reads one output stream of a command to its end: line by line into {@code lines} (keeping a tail of
   * {@code keepTail} characters), or, without a sink, collected up to {@link #MAX_COLLECTED} bytes ({@code keepTail}
   * {@code Integer.MAX_VALUE}) or as a tail only. Every line is cut at {@code maxLine} bytes with a visible marker, so
   * neither a line without newline nor endless output grows memory; the output is remote and untrusted.
   */
  private static final class Drain {
    private final @Nullable Consumer<String> lines;
    private final int keepTail;
    private final int maxLine;
    private final ByteArrayOutputStream cur = new ByteArrayOutputStream();
    private final StringBuilder kept = new StringBuilder();
    private long dropped;
    private long collected;
    private volatile boolean overflowed;

    Drain(@Nullable Consumer<String> lines, int keepTail, int maxLine) {
      this.lines = lines;
      this.keepTail = keepTail;
      this.maxLine = maxLine;
    }

    private boolean collecting() {
      return lines == null && keepTail == Integer.MAX_VALUE;
    }

    /** True when collected output passed {@link #MAX_COLLECTED} and reading stopped. */
    boolean overflowed() {
      return overflowed;
    }

    String read(InputStream in) {
      try {
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
          for (int i = 0; i < n; i++) {
            if (buf[i] == '\n') {
              line(true);
              if (overflowed) {
                return kept.toString();
              }
            } else if (cur.size() < maxLine) {
              cur.write(buf[i]);
            } else {
              dropped++;
            }
          }
        }
        if (cur.size() > 0 || dropped > 0) {
          line(false);
        }
      } catch (IOException e) {
        // the channel was closed under us; the exit status check reports it
      }
      return lines != null && keepTail == Integer.MAX_VALUE ? "" : kept.toString();
    }

    private void line(boolean newline) {
      byte[] bytes = cur.toByteArray();
      int len = bytes.length;
      // a streamed line loses the CR of a CRLF end, as BoundedReads.lines does; collected output stays byte for byte
      if (lines != null && dropped == 0 && len > 0 && bytes[len - 1] == '\r') {
        len--;
      }
      String line = new String(bytes, 0, len, StandardCharsets.UTF_8);
      if (dropped > 0) {
        line += dev.byop.core.internal.BoundedReads.cutMarker(dropped);
      }
      cur.reset();
      dropped = 0;
      if (lines != null) {
        lines.accept(line);
      }
      if (collecting()) {
        collected += line.length() + 1L;
        if (collected > MAX_COLLECTED) {
          overflowed = true;
          return;
        }
        kept.append(line);
        if (newline) {
          kept.append('\n');
        }
      } else if (keepTail < Integer.MAX_VALUE) {
        kept.append(line).append('\n');
        if (kept.length() > keepTail) {
          kept.delete(0, kept.length() - keepTail);
        }
      }
    }
  }

  /**
   * A {@code direct-tcpip} channel to {@code host:port} as the remote machine sees it (its own loopback included),
   * e.g. a router's admin API that listens only there. The caller closes it.
   */
  DirectConnection open(String host, int port) {
    try {
      DirectConnection c = client.newDirectConnection(host, port);
      if (LOG.isDebugEnabled()) {
        LOG.debug("direct-tcpip on {}: port {}", this.host.label(), port);
      }
      return c;
    } catch (IOException e) {
      throw new SshException("cannot open a channel to " + host + ":" + port + " via " + this.host.label() + ": " + e.getMessage(), e);
    }
  }

  /** The login user's home directory as an absolute path (remote shells do not expand a quoted {@code ~}). */
  String home() {
    String h = home;
    if (h == null) {
      try (SFTPClient sftp = client.newSFTPClient()) {
        h = sftp.canonicalize(".");
        home = h;
      } catch (IOException e) {
        throw new SshException("cannot resolve the home directory on " + host.label() + ": " + e.getMessage(), e);
      }
    }
    return h;
  }

  /**
   * Makes {@code dir} (absolute) and every missing parent with {@code mode}; existing directories are left as they
   * are.
   */
  void mkdirs(String dir, int mode) {
    long began = System.nanoTime();
    try (SFTPClient sftp = client.newSFTPClient()) {
      mkdirs(sftp, dir, mode);
      sftpDebug("mkdirs", began);
    } catch (IOException e) {
      throw new SshException("creating " + dir + " on " + host.label() + " failed: " + e.getMessage(), e);
    }
  }

  private static void mkdirs(SFTPClient sftp, String dir, int mode) throws IOException {
    if (dir.isEmpty() || dir.equals("/") || sftp.statExistence(dir) != null) {
      return;
    }
    mkdirs(sftp, dir.substring(0, Math.max(0, dir.lastIndexOf('/'))), mode);
    // created with the mode (then set exactly, whatever the server's umask): never wider, not even for a moment
    FileAttributes attrs = new FileAttributes.Builder().withPermissions(mode).build();
    sftp.getSFTPEngine().makeDir(dir, attrs);
    sftp.setattr(dir, attrs);
  }

  /**
   * Writes {@code content} to {@code path} over SFTP: the file is created with {@code mode} (an existing one is
   * truncated and set to {@code mode}) before any byte of the content is written, so the content never sits in a file
   * with a wider mode. The parent directory must exist.
   */
  void write(String path, byte[] content, int mode) {
    long began = System.nanoTime();
    FileAttributes attrs = new FileAttributes.Builder().withPermissions(mode).build();
    try (SFTPClient sftp = client.newSFTPClient();
        RemoteFile f = sftp.open(path, EnumSet.of(OpenMode.WRITE, OpenMode.CREAT, OpenMode.TRUNC), attrs)) {
      f.setAttributes(attrs);
      try (OutputStream os = f.new RemoteFileOutputStream()) {
        os.write(content);
      }
      sftpDebug("write", began);
    } catch (IOException e) {
      throw new SshException("writing " + path + " on " + host.label() + " failed: " + e.getMessage(), e);
    }
  }

  /** Sets the permission bits of {@code path}. */
  void chmod(String path, int mode) {
    long began = System.nanoTime();
    try (SFTPClient sftp = client.newSFTPClient()) {
      sftp.setattr(path, new FileAttributes.Builder().withPermissions(mode).build());
      sftpDebug("chmod", began);
    } catch (IOException e) {
      throw new SshException("chmod of " + path + " on " + host.label() + " failed: " + e.getMessage(), e);
    }
  }

  /** The permission bits of {@code path}, or -1 when it does not exist. */
  int mode(String path) {
    try (SFTPClient sftp = client.newSFTPClient()) {
      FileAttributes a = sftp.statExistence(path);
      return a == null ? -1 : a.getMode().getPermissionsMask();
    } catch (IOException e) {
      throw new SshException("stat of " + path + " on " + host.label() + " failed: " + e.getMessage(), e);
    }
  }

  /** Reads a remote file of at most {@link #MAX_DOWNLOAD} bytes over SFTP, or null when it does not exist. */
  byte @Nullable [] download(String remotePath) {
    return download(remotePath, MAX_DOWNLOAD);
  }

  /** Reads a remote file of at most {@code maxBytes} over SFTP (a larger one is an error), or null when it does not exist. */
  byte @Nullable [] download(String remotePath, int maxBytes) {
    long began = System.nanoTime();
    try (SFTPClient sftp = client.newSFTPClient()) {
      if (sftp.statExistence(remotePath) == null) {
        sftpDebug("read (absent)", began);
        return null;
      }
      try (RemoteFile f = sftp.open(remotePath, EnumSet.of(OpenMode.READ));
          InputStream is = f.new RemoteFileInputStream()) {
        byte[] b = is.readNBytes(maxBytes + 1);
        if (b.length > maxBytes) {
          throw new SshException(remotePath + " on " + host.label() + " is larger than " + maxBytes + " bytes; not read");
        }
        sftpDebug("read", began);
        return b;
      }
    } catch (IOException e) {
      throw new SshException("reading " + remotePath + " from " + host.label() + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * The host's Docker Engine API, as the Docker CLI reaches an {@code ssh://} host: each connection is an exec
   * channel running {@code <docker> system dial-stdio} (so {@code sudo docker} works as the deployer's own docker
   * command does), kept alive and reused by the client, one request at a time each; an API call then costs a round
   * trip instead of starting the docker CLI on the host (about 70 ms each on the bed's small hosts, measured by the
   * push-to-URL bench). Ends with this connection.
   */
  dev.byop.docker.DockerClient engine(List<String> docker) {
    return engines.computeIfAbsent(List.copyOf(docker), d -> dev.byop.docker.DockerClient.over(
        new dev.byop.docker.DockerEndpoint(sshUri(), null, List.of()),
        () -> dialStdio(d)));
  }

  /** {@code ssh://user@address:port}: how messages and the {@code Host} header name the host's engine. */
  private java.net.URI sshUri() {
    try {
      return new java.net.URI("ssh", host.user(), host.address(), host.port(), null, null, null);
    } catch (java.net.URISyntaxException e) {
      throw new SshException("host " + host.label() + " cannot be named as an ssh:// URI: " + e.getMessage(), e);
    }
  }

  private dev.byop.docker.internal.EngineConnection dialStdio(List<String> docker) throws IOException {
    List<String> argv = new java.util.ArrayList<>(docker);
    argv.addAll(List.of("system", "dial-stdio"));
    long began = System.nanoTime();
    Session session = client.startSession();
    Session.Command cmd;
    try {
      cmd = session.exec(ShellQuote.command(argv));
    } catch (IOException | RuntimeException e) {
      closeQuietly(session);
      throw e;
    }
    // what dial-stdio says goes to the debug log, never into the HTTP stream
    daemonExecutor().execute(() -> {
      try (InputStream err = cmd.getErrorStream()) {
        String said = new String(err.readNBytes(STDERR_TAIL), StandardCharsets.UTF_8).strip();
        if (!said.isEmpty()) LOG.debug("dial-stdio on {}: {}", host.label(), said);
        err.transferTo(OutputStream.nullOutputStream());
      } catch (IOException e) {
        // the channel ended
      }
    });
    OutputStream raw = cmd.getOutputStream();
    OutputStream out = dev.byop.docker.internal.EngineConnection.flushing(raw);
    if (LOG.isDebugEnabled()) {
      LOG.debug("exec on {}: {} ({} ms)", host.label(), "docker system dial-stdio", (System.nanoTime() - began) / 1_000_000);
    }
    return dev.byop.docker.internal.EngineConnection.of(cmd.getInputStream(), out, raw::close,
        () -> cmd.isOpen() && client.isConnected(), () -> closeQuietly(session));
  }

  /** Cuts the transport at once (used by the pool and to simulate a network cut in tests). */
  void disconnect() {
    engines.values().forEach(dev.byop.docker.DockerClient::close);
    try {
      client.disconnect();
    } catch (IOException e) {
      LOG.debug("disconnect from {}", host.label(), e);
    }
  }

  @Override
  public void close() {
    disconnect();
  }

  @Override
  public String toString() {
    return "SshConnection[" + host.label() + "]";
  }
}
