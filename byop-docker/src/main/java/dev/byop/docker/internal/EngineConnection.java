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
    InputStream in = ChannelStreams.in(ch);
    OutputStream out = ChannelStreams.out(ch);
    return new EngineConnection() {
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
        ch.shutdownOutput();
      }

      @Override
      public boolean isOpen() {
        return ch.isOpen();
      }

      @Override
      public void close() {
        try {
          ch.close();
        } catch (IOException e) {
          // already broken; nothing to release
        }
      }
    };
  }

  /** Over a connected socket (TLS). */
  static EngineConnection of(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    OutputStream out = s.getOutputStream();
    return new EngineConnection() {
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
        s.shutdownOutput();
      }

      @Override
      public boolean isOpen() {
        return !s.isClosed();
      }

      @Override
      public void close() {
        try {
          s.close();
        } catch (IOException e) {
          // already broken
        }
      }
    };
  }

  /** Over a process's standard streams (stdin to the engine, stdout from it); closing ends the process. */
  static EngineConnection of(Process p) {
    InputStream in = p.getInputStream();
    OutputStream out = p.getOutputStream();
    return new EngineConnection() {
      @Override
      public InputStream input() {
        return in;
      }

      @Override
      public OutputStream output() {
        return new OutputStream() {
          @Override
          public void write(int b) throws IOException {
            out.write(b);
            out.flush();
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            out.flush();
          }

          @Override
          public void close() throws IOException {
            out.close();
          }
        };
      }

      @Override
      public void shutdownOutput() throws IOException {
        out.close();
      }

      @Override
      public boolean isOpen() {
        return p.isAlive();
      }

      @Override
      public void close() {
        try {
          out.close();
        } catch (IOException e) {
          // the process is gone already
        }
        p.destroy();
        try {
          if (!p.waitFor(2, TimeUnit.SECONDS)) p.destroyForcibly();
        } catch (InterruptedException e) {
          p.destroyForcibly();
          Thread.currentThread().interrupt();
        }
      }
    };
  }
}
