package dev.byop.buildkit.internal;

import com.google.protobuf.Timestamp;
import dev.byop.buildkit.internal.proto.StatusResponse;
import dev.byop.buildkit.internal.proto.Vertex;
import dev.byop.buildkit.internal.proto.VertexLog;
import dev.byop.buildkit.internal.proto.VertexStatus;
import dev.byop.buildkit.internal.proto.VertexWarning;
import dev.byop.core.spi.LogSink;
import java.io.ByteArrayOutputStream;
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
 */
public final class ProgressPrinter {
  private static final int TAIL = 30;

  private static final class V {
    int index;
    String name = "";
    boolean printedHead;
    boolean cached;
    boolean done;
    @Nullable Timestamp started;
    @Nullable String error;
    final Map<Long, ByteArrayOutputStream> partial = new HashMap<>();
    final Deque<String> tail = new ArrayDeque<>();
    final Set<String> statusDone = new HashSet<>();
  }

  private final LogSink sink;
  private final Map<String, V> vertices = new LinkedHashMap<>();
  private final Set<String> secrets;
  private int next = 1;

  /**
   * @param secretValues values that must never reach the log; replaced by {@code ****} if a step prints them
   */
  public ProgressPrinter(LogSink sink, Set<String> secretValues) {
    this.sink = sink;
    this.secrets = secretValues;
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
    String line = "#" + v.index + " " + redact(text);
    sink.line(line);
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
      ByteArrayOutputStream buf = v.partial.computeIfAbsent(l.getStream(), k -> new ByteArrayOutputStream());
      for (byte b : l.getMsg().toByteArray()) {
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

  private void line(V v, ByteArrayOutputStream buf) {
    String s = buf.toString(StandardCharsets.UTF_8);
    if (s.endsWith("\r")) {
      s = s.substring(0, s.length() - 1);
    }
    buf.reset();
    String red = redact(s);
    v.tail.addLast(red);
    if (v.tail.size() > TAIL) {
      v.tail.removeFirst();
    }
    emit(v, s);
  }

  private void flushPartial(V v) {
    for (ByteArrayOutputStream b : v.partial.values()) {
      if (b.size() > 0) {
        line(v, b);
      }
    }
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
