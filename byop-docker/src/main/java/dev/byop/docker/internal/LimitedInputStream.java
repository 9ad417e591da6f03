package dev.byop.docker.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;

/** A body of known Content-Length. */
public final class LimitedInputStream extends InputStream {
  private final InputStream in;
  private long remaining;

  public LimitedInputStream(InputStream in, long length) {
    this.in = in;
    this.remaining = length;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (remaining <= 0) {
      return -1;
    }
    if (len == 0) {
      return 0;
    }
    int n = in.read(b, off, (int) Math.min(len, remaining));
    if (n < 0) {
      throw new EOFException("connection closed with " + remaining + " body bytes missing");
    }
    remaining -= n;
    return n;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
