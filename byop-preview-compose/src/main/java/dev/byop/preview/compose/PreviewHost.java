package dev.byop.preview.compose;

import dev.byop.core.PreviewException;
import dev.byop.core.internal.BoundedReads;
import dev.byop.core.spi.Cancellation;
import dev.byop.core.spi.LogSink;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A machine previews run on, as the {@link ComposeDeployer} and the {@link PreviewRouter}s use it: this machine
 * ({@code byop-preview-local}) or an SSH host ({@code byop-preview-ssh}). Everything the preview side does on a host
 * goes through these few calls, so project naming, compose detection, clean-up, sweep, logs, status, readiness and
 * routing exist once for both kinds of host.
 */
public interface PreviewHost {
  /** The id recorded on previews: {@code byop.local}, or the cloud provider's host id. */
  String id();

  /** The address previews on this host are reached at (recorded on RUNNING previews). */
  String address();

  /** The Docker CLI on the host as an argument list prefix, e.g. {@code [docker]}. */
  List<String> docker();

  /** The absolute directory compose projects live in, one subdirectory per project. */
  String workDir();

  /**
   * The host's Docker Engine API, the same engine {@link #docker()} talks to, when the host can reach it directly:
   * the deployer then asks it what it would otherwise start the docker CLI for (container states while waiting,
   * a redeploy's container replacement), a round trip each instead of a process. Empty (the default) for a host
   * that only runs commands: everything then goes through {@link #docker()}.
   */
  default Optional<dev.byop.docker.DockerClient> engine() {
    return Optional.empty();
  }

  /**
   * Runs {@code argv} (an argument list, never a shell line) to completion, passing each output line (stdout and
   * stderr) to {@code output} as it comes. What a command prints is the user's: each line is cut at
   * {@link dev.byop.core.internal.BoundedReads#MAX_LINE_BYTES} with a visible marker and the result keeps at most
   * {@link dev.byop.core.internal.BoundedReads#MAX_LINES} lines.
   *
   * @throws dev.byop.core.PreviewException when the command cannot be started or runs longer than {@code timeout}
   * @throws dev.byop.core.CancelledException when {@code cancellation} fires (the command is stopped)
   */
  CommandResult run(List<String> argv, LogSink output, Duration timeout, Cancellation cancellation);

  /** {@link #run} with no cancellation. */
  default CommandResult run(List<String> argv, LogSink output, Duration timeout) {
    return run(argv, output, timeout, Cancellation.none());
  }

  /**
   * Writes {@code content} to {@code path} (under {@link #workDir}) with {@code mode} (e.g. {@code 0600}); the work
   * directory and every directory from it down to the file are made (when missing) and kept {@code 0700}. The file
   * never exists with a wider mode, not even for a moment.
   */
  void write(String path, byte[] content, int mode);

  /** The file's content, at most {@code maxBytes} (more is an error), or empty when it does not exist. */
  Optional<byte[]> read(String path, int maxBytes);

  /** Removes a directory tree under {@link #workDir}; nothing when it does not exist. */
  void delete(String path);

  /**
   * Opens a byte stream to {@code host:port} as the host sees it (its own loopback included): Caddy's admin API,
   * readiness probes. Connecting and every read on it end at one deadline, {@code timeout} from now.
   *
   * @throws dev.byop.core.PreviewException when the port cannot be reached (the message says where and why)
   */
  Connection connect(String host, int port, Duration timeout);

  /** A byte stream to a port on or near the host. */
  interface Connection extends Closeable {
    InputStream input();

    OutputStream output();

    /** The two streams of a connection and what ends it (e.g. a socket's or a channel's close). */
    static Connection of(InputStream in, OutputStream out, Closeable end) {
      return new Connection() {
        @Override
        public InputStream input() {
          return in;
        }

        @Override
        public OutputStream output() {
          return out;
        }

        @Override
        public void close() throws IOException {
          end.close();
        }
      };
    }

    /**
     * A TCP connection from this machine to {@code host:port} whose connect and every read end at one deadline,
     * {@code timeout} from now (what {@link #connect} promises, for hosts reached over this machine's network).
     *
     * @throws dev.byop.core.PreviewException when the port cannot be reached (naming it and why)
     */
    static Connection tcp(String host, int port, Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      Socket s = new Socket();
      try {
        s.connect(new InetSocketAddress(host, port), (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis())));
        return of(BoundedReads.withDeadline(s, deadline), s.getOutputStream(), s::close);
      } catch (IOException | IllegalArgumentException e) {
        try {
          s.close();
        } catch (IOException ignored) {
          // nothing was opened
        }
        throw new PreviewException("cannot connect to " + host + ":" + port + ": " + e.getMessage(), e);
      }
    }
  }
}
