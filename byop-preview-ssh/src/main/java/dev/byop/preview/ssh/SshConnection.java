package dev.byop.preview.ssh;

import dev.byop.core.internal.ShellQuote;
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
import net.schmizz.sshj.connection.channel.direct.Session;
import net.schmizz.sshj.sftp.OpenMode;
import net.schmizz.sshj.sftp.RemoteFile;
import net.schmizz.sshj.sftp.SFTPClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One authenticated SSH connection to a host, shared by concurrent commands (each on its own channel).
 *
 * <p>Obtained from {@link SshConnections}; every command is an argument list quoted by {@link ShellQuote}.
 *
 * <pre>{@code
 * try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
 *     String v = pool.get(host).run(List.of("docker", "version", "--format", "{{.Server.Version}}")).stdout();
 * }
 * }</pre>
 */
public final class SshConnection implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SshConnection.class);
  private static final int STDERR_TAIL = 4096;
  /** Longest line kept from a remote command's output; the rest of it is replaced by a visible marker. */
  static final int MAX_LINE = 64 * 1024;
  /** Most output collected into memory from one command; a command printing more is stopped. */
  static final int MAX_COLLECTED = 4 * 1024 * 1024;
  /** Largest remote file {@link #download} reads into memory. */
  static final int MAX_DOWNLOAD = 4 * 1024 * 1024;

  private final SshHost host;
  private final SSHClient client;
  private final SshOptions options;
  private volatile String home;

  SshConnection(SshHost host, SSHClient client, SshOptions options) {
    this.host = host;
    this.client = client;
    this.options = options;
  }

  /** The host this connection talks to. */
  public SshHost host() {
    return host;
  }

  /** The TCP socket under the transport (for the pool's dead-link watchdog). */
  java.net.Socket socket() {
    return client.getSocket();
  }

  /** True while the transport is up and authenticated. */
  public boolean isAlive() {
    return client.isConnected() && client.isAuthenticated();
  }

  /** Runs a command with no input, within the command timeout; a non-zero exit raises {@link RemoteCommandException}. */
  public ExecResult run(List<String> argv) {
    return check(argv, exec(argv, StdinSource.NONE, null, options.commandTimeout()));
  }

  /** Runs a command feeding {@code stdin} (the only way secrets reach a remote command); non-zero exit raises. */
  public ExecResult run(List<String> argv, StdinSource stdin) {
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
  public ExecResult exec(List<String> argv, StdinSource stdin, Consumer<String> stdoutLines, Duration timeout) {
    return exec(argv, stdin, stdoutLines, null, timeout);
  }

  /** As {@link #exec(List, StdinSource, Consumer, Duration)}, also streaming stderr line by line (its tail is still kept). */
  public ExecResult exec(List<String> argv, StdinSource stdin, Consumer<String> stdoutLines, Consumer<String> stderrLines, Duration timeout) {
    Objects.requireNonNull(stdin, "stdin");
    String line = ShellQuote.command(argv);
    long deadline = System.nanoTime() + timeout.toNanos();
    Session session = null;
    try {
      session = client.startSession();
      Session.Command cmd = session.exec(line);
      Drain outDrain = new Drain(stdoutLines, Integer.MAX_VALUE);
      CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> outDrain.read(cmd.getInputStream()), daemonExecutor());
      CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> new Drain(stderrLines, STDERR_TAIL).read(cmd.getErrorStream()),
          daemonExecutor());
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
        // closing the channel (finally) ends the remote command at its next write
        throw new RemoteCommandException(host.label(), argv, -1, "printed more than " + MAX_COLLECTED + " bytes on stdout; stopped");
      }
      String stderr = err.get(remaining(deadline), TimeUnit.NANOSECONDS);
      cmd.join(Math.max(1, remaining(deadline)), TimeUnit.NANOSECONDS);
      Integer status = cmd.getExitStatus();
      if (status == null) {
        if (!client.isConnected()) {
          throw new SshException("connection to " + host.label() + " lost during " + argv);
        }
        throw new RemoteCommandException(host.label(), argv, -1, stderr + (cmd.getExitSignal() != null ? " (signal " + cmd.getExitSignal() + ")" : ""));
      }
      return new ExecResult(status, stdout, stderr);
    } catch (TimeoutException e) {
      throw new RemoteCommandException(host.label(), argv, -1, "no result within " + timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SshException("interrupted while running " + argv + " on " + host.label(), e);
    } catch (ExecutionException e) {
      throw new SshException("reading the output of " + argv + " on " + host.label() + " failed", e.getCause());
    } catch (IOException e) {
      throw new SshException("connection to " + host.label() + " failed during " + argv + ": " + e.getMessage(), e);
    } finally {
      if (session != null) {
        try {
          session.close();
        } catch (IOException e) {
          LOG.debug("closing channel on {}", host.label(), e);
        }
      }
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
   * {@code Integer.MAX_VALUE}) or as a tail only. Every line is cut at {@link #MAX_LINE} bytes with a visible marker, so
   * neither a line without newline nor endless output grows memory; the output is remote and untrusted.
   */
  private static final class Drain {
    private final Consumer<String> lines;
    private final int keepTail;
    private final ByteArrayOutputStream cur = new ByteArrayOutputStream();
    private final StringBuilder kept = new StringBuilder();
    private long dropped;
    private long collected;
    private volatile boolean overflowed;

    Drain(Consumer<String> lines, int keepTail) {
      this.lines = lines;
      this.keepTail = keepTail;
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
            } else if (cur.size() < MAX_LINE) {
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
      String line = cur.toString(StandardCharsets.UTF_8);
      if (dropped > 0) {
        line += " ... [line cut: " + dropped + " more bytes]";
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

  /** Status and body of an HTTP exchange made through the connection. */
  public record HttpReply(int status, String body) {}

  /**
   * Sends one HTTP request to {@code host:port} as seen from the remote machine (an SSH direct-tcpip channel), e.g. a
   * router's admin API that listens only on the remote loopback.
   */
  public HttpReply http(String host, int port, String method, String path, byte[] jsonBody) {
    try (net.schmizz.sshj.connection.channel.direct.DirectConnection dc = client.newDirectConnection(host, port)) {
      var r = dev.byop.preview.ssh.internal.MiniHttp.exchange(dc.getInputStream(), dc.getOutputStream(), method, host + ":" + port, path,
          "application/json", jsonBody);
      return new HttpReply(r.status(), r.body());
    } catch (IOException e) {
      throw new SshException(method + " http://" + host + ":" + port + path + " via " + this.host.label() + " failed: " + e.getMessage(), e);
    }
  }

  /** The login user's home directory as an absolute path (remote shells do not expand a quoted {@code ~}). */
  public String home() {
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

  /** Writes {@code content} to {@code remotePath} over SFTP, creating parent directories; relative paths are under home. */
  public void upload(String remotePath, byte[] content) {
    try (SFTPClient sftp = client.newSFTPClient()) {
      int slash = remotePath.lastIndexOf('/');
      if (slash > 0) {
        sftp.mkdirs(remotePath.substring(0, slash));
      }
      try (RemoteFile f = sftp.open(remotePath, EnumSet.of(OpenMode.WRITE, OpenMode.CREAT, OpenMode.TRUNC));
          OutputStream os = f.new RemoteFileOutputStream()) {
        os.write(content);
      }
    } catch (IOException e) {
      throw new SshException("uploading " + remotePath + " to " + host.label() + " failed: " + e.getMessage(), e);
    }
  }

  /** Reads a remote file of at most {@link #MAX_DOWNLOAD} bytes over SFTP, or null when it does not exist. */
  public byte[] download(String remotePath) {
    try (SFTPClient sftp = client.newSFTPClient()) {
      if (sftp.statExistence(remotePath) == null) {
        return null;
      }
      try (RemoteFile f = sftp.open(remotePath, EnumSet.of(OpenMode.READ));
          InputStream is = f.new RemoteFileInputStream()) {
        byte[] b = is.readNBytes(MAX_DOWNLOAD + 1);
        if (b.length > MAX_DOWNLOAD) {
          throw new SshException(remotePath + " on " + host.label() + " is larger than " + MAX_DOWNLOAD + " bytes; not read");
        }
        return b;
      }
    } catch (IOException e) {
      throw new SshException("reading " + remotePath + " from " + host.label() + " failed: " + e.getMessage(), e);
    }
  }

  /** Cuts the transport at once (used by the pool and to simulate a network cut in tests). */
  public void disconnect() {
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
