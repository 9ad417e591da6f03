package dev.byop.docker.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Objects;

/**
 * Input and output streams over one blocking {@link SocketChannel} that may be used by two threads at once.
 *
 * <p>Why not {@code Channels.newInputStream}: on Java 17 its read and write both synchronize on the channel's
 * blocking lock, so a thread blocked in read stalls every writer; a bridged HTTP/2 connection is full duplex.
 * {@code SocketChannel} itself has separate read and write locks.
 */
public final class ChannelStreams {
  private ChannelStreams() {}

  /** An input stream that reads the channel directly. */
  public static InputStream in(SocketChannel ch) {
    return new BlockInputStream() {
      @Override
      protected int readBlock(byte[] b, int off, int len) throws IOException {
        int n;
        do {
          n = ch.read(ByteBuffer.wrap(b, off, len));
        } while (n == 0);
        return n;
      }

      @Override
      public void close() throws IOException {
        ch.close();
      }
    };
  }

  /** An output stream that writes the channel directly; every write is complete when it returns. */
  public static OutputStream out(SocketChannel ch) {
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        ByteBuffer buf = ByteBuffer.wrap(b, off, len);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
      }

      @Override
      public void close() throws IOException {
        ch.close();
      }
    };
  }
}
