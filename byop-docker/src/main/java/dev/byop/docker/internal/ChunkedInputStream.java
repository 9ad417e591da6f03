package dev.byop.docker.internal;

import java.io.EOFException;
import java.io.IOException;

/** Decodes an HTTP/1.1 chunked body (RFC 9112 section 7.1); trailers are read and dropped. */
public final class ChunkedInputStream extends BlockInputStream {
  private final BufferedIn in;
  private long remaining;
  private boolean eof;

  public ChunkedInputStream(BufferedIn in) {
    this.in = in;
  }

  private boolean nextChunk() throws IOException {
    if (eof) {
      return false;
    }
    if (remaining == 0) {
      String line = in.readLine();
      if (line == null) {
        throw new EOFException("connection closed before the end of a chunked body");
      }
      if (line.isEmpty()) { // CRLF after the previous chunk's data
        line = in.readLine();
        if (line == null) {
          throw new EOFException("connection closed before the end of a chunked body");
        }
      }
      int semi = line.indexOf(';');
      String hex = (semi >= 0 ? line.substring(0, semi) : line).trim();
      try {
        remaining = Long.parseLong(hex, 16);
      } catch (NumberFormatException e) {
        throw new IOException("bad chunk size line '" + line + "'", e);
      }
      if (remaining < 0) {
        throw new IOException("bad chunk size line '" + line + "'");
      }
      if (remaining == 0) {
        String trailer;
        do {
          trailer = in.readLine();
        } while (trailer != null && !trailer.isEmpty());
        eof = true;
        return false;
      }
    }
    return true;
  }

  @Override
  protected int readBlock(byte[] b, int off, int len) throws IOException {
    if (!nextChunk()) {
      return -1;
    }
    int n = in.read(b, off, (int) Math.min(len, remaining));
    if (n < 0) {
      throw new EOFException("connection closed inside a chunk");
    }
    remaining -= n;
    return n;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
