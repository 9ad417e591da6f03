package dev.byop.docker.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;

/**
 * An input stream defined by one block read: the single-byte read goes through it, and it only ever sees a valid,
 * non-empty range (the JDK's {@code InputStream} leaves both to every subclass).
 */
abstract class BlockInputStream extends InputStream {
  @Override
  public final int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public final int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    return len == 0 ? 0 : readBlock(b, off, len);
  }

  /** Reads 1 to {@code len} bytes into {@code b} at {@code off}, or returns -1 at the end of the stream. */
  protected abstract int readBlock(byte[] b, int off, int len) throws IOException;
}
