package dev.byop.docker.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A buffered input stream that can also read CRLF lines; bytes past a response head stay buffered, so the body
 * (or the upgraded protocol after a 101) continues exactly where the head ended.
 */
public final class BufferedIn extends InputStream {
  private static final int MAX_LINE = 64 * 1024;
  private final InputStream in;
  private final byte[] buf = new byte[16 * 1024];
  private int pos;
  private int limit;

  public BufferedIn(InputStream in) {
    this.in = in;
  }

  private boolean fill() throws IOException {
    if (pos < limit) {
      return true;
    }
    int n = in.read(buf, 0, buf.length);
    if (n < 0) {
      return false;
    }
    pos = 0;
    limit = n;
    return true;
  }

  /** Reads one line without its CRLF (or LF); null at end of stream before any byte. */
  public @Nullable String readLine() throws IOException {
    return readLine(MAX_LINE);
  }

  /**
   * Reads one line of at most {@code maxBytes} without its CRLF (or LF); null at end of stream before any byte.
   *
   * @throws IOException when the line is longer: a protocol line that long is an attack, not data to keep
   */
  public @Nullable String readLine(int maxBytes) throws IOException {
    StringBuilder sb = new StringBuilder();
    while (true) {
      if (!fill()) {
        if (sb.length() == 0) {
          return null;
        }
        throw new EOFException("connection closed in the middle of a line");
      }
      while (pos < limit) {
        byte b = buf[pos++];
        if (b == '\n') {
          int len = sb.length();
          if (len > 0 && sb.charAt(len - 1) == '\r') {
            sb.setLength(len - 1);
          }
          return sb.toString();
        }
        // header bytes are ISO-8859-1 by RFC 9110
        sb.append((char) (b & 0xff));
        if (sb.length() > maxBytes) {
          throw new IOException("HTTP line longer than " + maxBytes + " bytes");
        }
      }
    }
  }

  /** Reads exactly {@code n} bytes as a string (used for small fixed bodies). */
  public String readUtf8(int n) throws IOException {
    byte[] b = readNBytes(n);
    if (b.length < n) {
      throw new EOFException("connection closed after " + b.length + " of " + n + " bytes");
    }
    return new String(b, StandardCharsets.UTF_8);
  }

  @Override
  public int read() throws IOException {
    if (!fill()) {
      return -1;
    }
    return buf[pos++] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return 0;
    }
    if (pos < limit) {
      int n = Math.min(len, limit - pos);
      System.arraycopy(buf, pos, b, off, n);
      pos += n;
      return n;
    }
    // large reads bypass the buffer
    if (len >= buf.length) {
      return in.read(b, off, len);
    }
    if (!fill()) {
      return -1;
    }
    return read(b, off, len);
  }

  /** Waits until a byte can be read without blocking; false at end of stream. */
  public boolean awaitData() throws IOException {
    return fill();
  }

  @Override
  public int available() {
    return limit - pos;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
