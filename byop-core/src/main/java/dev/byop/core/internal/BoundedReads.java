package dev.byop.core.internal;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Reads of what users control (a process's output, a preview's HTTP answer) with bounds on length and time, so an
 * endless line or a slow drip can neither grow memory nor hold a thread. Hand-written because the JDK's readers
 * ({@code BufferedReader.readLine}, {@code readAllBytes}) have no bound.
 */
public final class BoundedReads {
  /** The longest output line kept, in bytes; the rest of a longer line is dropped and {@link #cutMarker} appended. */
  // half of LogHub.MAX_LINE_CHARS: a cut line, its "[component] " prefix and this marker must fit the log's own
  // bound, or the log cuts it again and this marker is lost
  public static final int MAX_LINE_BYTES = LogHub.MAX_LINE_CHARS / 2;
  /** How many output lines of one command are kept for its result (the log sink still sees every line). */
  public static final int MAX_LINES = 10_000;

  private BoundedReads() {}

  /** The visible marker at the end of a line that was cut. */
  public static String cutMarker(long droppedBytes) {
    return " …[line cut: " + droppedBytes + " more bytes]";
  }

  /**
   * Passes each line of {@code in} (UTF-8, {@code \n} or {@code \r\n} ended) to {@code lines}, every line at most
   * {@code maxBytes} long plus the {@link #cutMarker}; the rest of a longer line is read and dropped.
   */
  public static void lines(InputStream in, int maxBytes, Consumer<String> lines) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream(256);
    long dropped = 0;
    byte[] buf = new byte[8192];
    int n;
    while ((n = in.read(buf)) >= 0) {
      for (int i = 0; i < n; i++) {
        byte c = buf[i];
        if (c == '\n') {
          lines.accept(text(b, dropped));
          b.reset();
          dropped = 0;
        } else if (b.size() < maxBytes) {
          b.write(c);
        } else {
          dropped++;
        }
      }
    }
    if (b.size() > 0 || dropped > 0) lines.accept(text(b, dropped));
  }

  private static String text(ByteArrayOutputStream b, long dropped) {
    byte[] bytes = b.toByteArray();
    int len = bytes.length;
    if (dropped == 0 && len > 0 && bytes[len - 1] == '\r') len--;
    String s = new String(bytes, 0, len, StandardCharsets.UTF_8);
    return dropped == 0 ? s : s + cutMarker(dropped);
  }

  /**
   * One protocol line (e.g. an HTTP header) of at most {@code maxBytes}, ISO-8859-1, without its line end; null at
   * end of stream.
   *
   * @throws IOException when the line is longer: a protocol line that long is an attack, not data to keep
   */
  public static @Nullable String protocolLine(InputStream in, int maxBytes) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream(128);
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') break;
      if (c == '\r') continue;
      if (b.size() >= maxBytes) throw new IOException("line longer than " + maxBytes + " bytes");
      b.write(c);
    }
    if (c < 0 && b.size() == 0) return null;
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  /**
   * A socket's input that ends every read at {@code deadlineNanos} ({@link System#nanoTime}): each read waits at most
   * the time left, so a peer that sends one byte at a time cannot stretch the exchange past the deadline.
   */
  public static InputStream withDeadline(Socket socket, long deadlineNanos) throws IOException {
    return new FilterInputStream(new java.io.BufferedInputStream(socket.getInputStream(), 8192)) {
      private void arm() throws IOException {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) throw new SocketTimeoutException("deadline passed");
        socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, left / 1_000_000)));
      }

      @Override
      public int read() throws IOException {
        arm();
        return super.read();
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        arm();
        return super.read(b, off, len);
      }
    };
  }

  /**
   * A command's output lines for its result: the first and the last {@code max / 2} lines (what is parsed and what an
   * error message quotes), with one line in between saying how many were dropped.
   */
  public static final class LineList {
    private final int half;
    private final List<String> head = new ArrayList<>();
    private final java.util.ArrayDeque<String> tail = new java.util.ArrayDeque<>();
    private long dropped;

    public LineList(int max) {
      this.half = Math.max(1, max / 2);
    }

    public synchronized void add(String line) {
      if (head.size() < half) {
        head.add(line);
        return;
      }
      tail.addLast(line);
      if (tail.size() > half) {
        tail.removeFirst();
        dropped++;
      }
    }

    public synchronized List<String> snapshot() {
      List<String> out = new ArrayList<>(head);
      if (dropped > 0) out.add("…[" + dropped + " lines dropped]");
      out.addAll(tail);
      return out;
    }
  }
}
