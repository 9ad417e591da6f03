package dev.byop.buildkit.internal;

import com.google.protobuf.Timestamp;
import dev.byop.buildkit.internal.proto.StatusResponse;
import dev.byop.buildkit.internal.proto.Vertex;
import dev.byop.buildkit.internal.proto.VertexLog;
import dev.byop.buildkit.internal.proto.VertexStatus;
import dev.byop.buildkit.internal.proto.VertexWarning;
import dev.byop.core.spi.LogSink;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Renders BuildKit's Status stream as buildctl's plain progress ({@code #N name}, log lines, {@code DONE},
 * {@code CACHED}, {@code ERROR}) into a log sink; keeps each step's last lines for the failure report.
 * Not thread-safe: fed by the one Status stream.
 *
 * <p>A step's output is the user's: a line is kept up to {@link #MAX_LINE} bytes (plus the longest secret, so a
 * secret that straddles the cut is still masked) and the rest only counted, so a line without end costs bounded
 * memory; it is then shown cut, with a {@code … [cut: N bytes]} marker giving its full length.
 */
public final class ProgressPrinter {
  private static final int TAIL = 30;
  /** The longest log line shown, in bytes of output (also bounds step names and errors in the log). */
  public static final int MAX_LINE = 8192;

  /** A partial line: its first bytes, and how many there were in all. */
  private static final class LineBuffer {
    private final byte[] kept;
    private int size;
    private long total;

    LineBuffer(int capacity) {
      this.kept = new byte[capacity];
    }

    void write(byte b) {
      if (size < kept.length) {
        kept[size++] = b;
      }
      total++;
    }

    void reset() {
      size = 0;
      total = 0;
    }
  }

  private static final class V {
    int index;
    String name = "";
    boolean printedHead;
    boolean cached;
    boolean done;
    @Nullable Timestamp started;
    @Nullable String error;
    final Map<Long, LineBuffer> partial = new HashMap<>();
    final Deque<String> tail = new ArrayDeque<>();
    final Set<String> statusDone = new HashSet<>();
  }

  private final LogSink sink;
  private final Map<String, V> vertices = new LinkedHashMap<>();
  private final Set<String> secrets;
  private final int keep;
  private int next = 1;

  /**
   * @param secretValues values that must never reach the log; replaced by {@code ****} if a step prints them
   */
  public ProgressPrinter(LogSink sink, Set<String> secretValues) {
    this.sink = sink;
    this.secrets = secretValues;
    int longest = 0;
    for (String secret : secretValues) {
      longest = Math.max(longest, secret.getBytes(StandardCharsets.UTF_8).length);
    }
    this.keep = MAX_LINE + longest;
  }

  private V v(String digest) {
    return vertices.computeIfAbsent(digest, d -> new V());
  }

  private void head(V v) {
    if (!v.printedHead) {
      v.printedHead = true;
      v.index = next++;
      emit(v, v.name);
    }
  }

  private void emit(V v, String text) {
    sink.line("#" + v.index + " " + cut(redact(text), -1));
  }

  /** Text cut to {@link #MAX_LINE} characters with a marker naming its full length ({@code totalBytes}, or its own). */
  private static String cut(String text, long totalBytes) {
    long bytes = totalBytes >= 0 ? totalBytes : text.length() <= MAX_LINE / 4 ? text.length()
        : text.getBytes(StandardCharsets.UTF_8).length;
    if (text.length() <= MAX_LINE && bytes <= MAX_LINE) {
      return text;
    }
    return text.substring(0, Math.min(text.length(), MAX_LINE)) + "… [cut: " + bytes + " bytes]";
  }

  /**
   * Text no longer than about {@code max} characters: its start and end with a {@code … [cut: N bytes] …} marker
   * between them (the end of an error usually says the most).
   */
  public static String cutMiddle(String text, int max) {
    if (text.length() <= max) {
      return text;
    }
    int tail = max / 4;
    return text.substring(0, max - tail) + " … [cut: " + text.getBytes(StandardCharsets.UTF_8).length + " bytes] … "
        + text.substring(text.length() - tail);
  }

  private String redact(String s) {
    String out = s;
    for (String secret : secrets) {
      if (secret.length() >= 3) {
        out = out.replace(secret, "****");
      }
    }
    return out;
  }

  public void accept(StatusResponse r) {
    for (Vertex x : r.getVertexesList()) {
      V v = v(x.getDigest());
      if (!x.getName().isEmpty()) {
        v.name = x.getName();
      }
      if (x.hasStarted()) {
        v.started = x.getStarted();
      }
      if (x.getCached() && !v.cached) {
        v.cached = true;
        head(v);
        if (!v.done) {
          emit(v, "CACHED");
          v.done = true;
        }
        continue;
      }
      if (x.hasStarted() || x.hasCompleted()) {
        head(v);
      }
      if (x.hasCompleted() && !v.done) {
        v.done = true;
        flushPartial(v);
        if (!x.getError().isEmpty()) {
          v.error = x.getError();
          if (x.getError().contains("context canceled")) {
            emit(v, "CANCELED");
          } else {
            emit(v, "ERROR: " + x.getError());
          }
        } else {
          emit(v, "DONE " + secs(v.started, x.getCompleted()));
        }
      }
    }
    for (VertexStatus s : r.getStatusesList()) {
      V v = v(s.getVertex());
      if (s.hasCompleted() && v.statusDone.add(s.getId())) {
        head(v);
        String amount = s.getTotal() > 0 ? size(s.getCurrent()) + " / " + size(s.getTotal())
            : s.getCurrent() > 0 ? size(s.getCurrent()) : "";
        emit(v, (s.getId() + " " + amount).trim() + " " + secs(s.getStarted(), s.getCompleted()) + " done");
      }
    }
    for (VertexLog l : r.getLogsList()) {
      V v = v(l.getVertex());
      head(v);
      LineBuffer buf = v.partial.computeIfAbsent(l.getStream(), k -> new LineBuffer(keep));
      com.google.protobuf.ByteString msg = l.getMsg();
      for (int i = 0, n = msg.size(); i < n; i++) {
        byte b = msg.byteAt(i);
        if (b == '\n') {
          line(v, buf);
        } else {
          buf.write(b);
        }
      }
    }
    for (VertexWarning w : r.getWarningsList()) {
      V v = v(w.getVertex());
      head(v);
      emit(v, "WARN: " + w.getShort().toStringUtf8());
    }
  }

  private void line(V v, LineBuffer buf) {
    String s = new String(buf.kept, 0, buf.size, StandardCharsets.UTF_8);
    long total = buf.total;
    if (total == buf.size && s.endsWith("\r")) {
      s = s.substring(0, s.length() - 1);
      total--;
    }
    buf.reset();
    String shown = cut(redact(s), total);
    v.tail.addLast(shown);
    if (v.tail.size() > TAIL) {
      v.tail.removeFirst();
    }
    sink.line("#" + v.index + " " + shown);
  }

  private void flushPartial(V v) {
    for (LineBuffer b : v.partial.values()) {
      if (b.total > 0) {
        line(v, b);
      }
    }
  }

  /** Bytes held for partial lines (bounded by {@link #MAX_LINE} per stream of each step). */
  int bufferedBytes() {
    int n = 0;
    for (V v : vertices.values()) {
      for (LineBuffer b : v.partial.values()) {
        n += b.kept.length;
      }
    }
    return n;
  }

  /** Flushes partial lines at the end of the stream. */
  public void finish() {
    for (V v : vertices.values()) {
      flushPartial(v);
    }
  }

  /** The failed step: its name, error and last log lines; null when no vertex failed (other than cancelled). */
  public @Nullable Failure failure() {
    Failure f = null;
    for (V v : vertices.values()) {
      if (v.error != null && !v.error.contains("context canceled")) {
        f = new Failure(v.name, v.error, new ArrayList<>(v.tail));
      }
    }
    return f;
  }

  /** A failed step. */
  public record Failure(String step, String error, List<String> logTail) {}

  private static String secs(@Nullable Timestamp a, Timestamp b) {
    if (a == null || a.getSeconds() == 0) {
      return "0.0s";
    }
    double s = (b.getSeconds() - a.getSeconds()) + (b.getNanos() - a.getNanos()) / 1e9;
    return String.format(Locale.ROOT, "%.1fs", Math.max(0, s));
  }

  private static String size(long n) {
    if (n < 1024) {
      return n + "B";
    }
    if (n < 1024 * 1024) {
      return String.format(Locale.ROOT, "%.2fkB", n / 1000.0);
    }
    return String.format(Locale.ROOT, "%.2fMB", n / 1e6);
  }
}
