package dev.byop.docker.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/** A body of known Content-Length. */
public final class LimitedInputStream extends BlockInputStream {
  private final InputStream in;
  private long remaining;

  public LimitedInputStream(InputStream in, long length) {
    this.in = in;
    this.remaining = length;
  }

  @Override
  protected int readBlock(byte[] b, int off, int len) throws IOException {
    if (remaining <= 0) {
      return -1;
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
