package dev.byop.docker.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * One connection to a Docker Engine, whatever carries it: a Unix or TCP socket channel, a TLS socket, or the
 * standard streams of {@code ssh … docker system dial-stdio} (as the Docker CLI reaches {@code ssh://} hosts). Input
 * and output may be used by two threads at once.
 */
public interface EngineConnection extends AutoCloseable {
  InputStream input();

  /** Unbuffered; every write is complete when it returns. */
  OutputStream output();

  /** Ends the sending side; the engine's answer can still be read. */
  void shutdownOutput() throws IOException;

  boolean isOpen();

  /** Closes it; never throws. */
  @Override
  void close();

  /** Over a connected socket channel (Unix or plain TCP). */
  static EngineConnection of(SocketChannel ch) {
    return new Streams(ChannelStreams.in(ch), ChannelStreams.out(ch), ch::shutdownOutput, ch::isOpen, ch::close);
  }

  /** Over a connected socket (TLS). */
  static EngineConnection of(Socket s) throws IOException {
    return new Streams(s.getInputStream(), s.getOutputStream(), s::shutdownOutput, () -> !s.isClosed(), s::close);
  }

  /**
   * {@code out}, flushed after every write: a request must reach the engine whole before its answer is awaited, over
   * a pipe or channel that buffers.
   */
  public static OutputStream flushing(OutputStream out) {
    return new java.io.FilterOutputStream(out) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        out.flush();
      }

      @Override
      public void write(int b) throws IOException {
        out.write(b);
        out.flush();
      }
    };
  }

  /** Over a process's standard streams (stdin to the engine, stdout from it); closing ends the process. */
  static EngineConnection of(Process p) {
    OutputStream stdin = p.getOutputStream();
    OutputStream flushing = flushing(stdin);
    return new Streams(p.getInputStream(), flushing, stdin::close, p::isAlive, () -> {
      try {
        stdin.close();
      } finally {
        p.destroy();
        try {
          if (!p.waitFor(2, TimeUnit.SECONDS)) p.destroyForcibly();
        } catch (InterruptedException e) {
          p.destroyForcibly();
          Thread.currentThread().interrupt();
        }
      }
    });
  }

  /** Opens one connection to an engine; how a {@code DockerClient} over a carrier of the host's own reaches it. */
  @FunctionalInterface
  interface Opener {
    EngineConnection open() throws IOException;
  }

  /**
   * Over two streams of any carrier (e.g. an SSH channel running {@code docker system dial-stdio}).
   *
   * @param shutdown ends the sending side (EOF to the engine)
   * @param end releases the carrier
   */
  static EngineConnection of(InputStream in, OutputStream out, java.io.Closeable shutdown,
      java.util.function.BooleanSupplier open, java.io.Closeable end) {
    return new Streams(in, out, shutdown, open, end);
  }

  /** The one implementation: two streams and what half-closes, tests and ends the carrier. */
  final class Streams implements EngineConnection {
    private final InputStream in;
    private final OutputStream out;
    private final java.io.Closeable shutdown;
    private final java.util.function.BooleanSupplier open;
    private final java.io.Closeable end;

    Streams(InputStream in, OutputStream out, java.io.Closeable shutdown, java.util.function.BooleanSupplier open,
        java.io.Closeable end) {
      this.in = in;
      this.out = out;
      this.shutdown = shutdown;
      this.open = open;
      this.end = end;
    }

    @Override
    public InputStream input() {
      return in;
    }

    @Override
    public OutputStream output() {
      return out;
    }

    @Override
    public void shutdownOutput() throws IOException {
      shutdown.close();
    }

    @Override
    public boolean isOpen() {
      return open.getAsBoolean();
    }

    @Override
    public void close() {
      try {
        end.close();
      } catch (IOException e) {
        // already broken; nothing to release
      }
    }
  }
}
