package dev.byop.docker.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/** Encodes an HTTP/1.1 chunked request body; {@link #finish()} writes the last chunk but keeps the socket open. */
public final class ChunkedOutputStream extends OutputStream {
  private final OutputStream out;
  private boolean finished;

  public ChunkedOutputStream(OutputStream out) {
    this.out = out;
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (finished) {
      throw new IOException("chunked body already finished");
    }
    if (len == 0) {
      return; // a zero-length chunk would end the body
    }
    out.write((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.US_ASCII));
    out.write(b, off, len);
    out.write(CRLF);
  }

  private static final byte[] CRLF = {'\r', '\n'};

  /** Writes the terminating zero chunk. */
  public void finish() throws IOException {
    if (!finished) {
      finished = true;
      out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
    }
  }

  @Override
  public void flush() throws IOException {
    out.flush();
  }

  @Override
  public void close() throws IOException {
    finish();
  }
}
