package dev.byop.preview.ssh.internal;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicLong;

/** Counts the bytes that actually went to the remote side; close() does not close the target (its owner does). */
public final class CountingOutputStream extends FilterOutputStream {

  private final AtomicLong count;

  public CountingOutputStream(OutputStream out, AtomicLong count) {
    super(out);
    this.count = count;
  }

  @Override
  public void write(int b) throws IOException {
    out.write(b);
    count.incrementAndGet();
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    out.write(b, off, len);
    count.addAndGet(len);
  }

  @Override
  public void close() throws IOException {
    out.flush();
  }
}
