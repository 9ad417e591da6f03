package dev.byop.buildkit.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import dev.byop.buildkit.internal.proto.StatusResponse;
import dev.byop.buildkit.internal.proto.Vertex;
import dev.byop.buildkit.internal.proto.VertexLog;
import dev.byop.buildkit.internal.proto.VertexStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ProgressPrinterTest {
  private static Timestamp ts(long s, int n) {
    return Timestamp.newBuilder().setSeconds(s).setNanos(n).build();
  }

  private static StatusResponse log(String v, String msg) {
    return StatusResponse.newBuilder().addLogs(VertexLog.newBuilder().setVertex(v).setStream(1)
        .setMsg(ByteString.copyFromUtf8(msg))).build();
  }

  @Test
  void rendersLikeBuildctlPlain() {
    List<String> out = new ArrayList<>();
    ProgressPrinter p = new ProgressPrinter(out::add, Set.of("topsecret"));
    p.accept(StatusResponse.newBuilder().addVertexes(Vertex.newBuilder().setDigest("d1").setName("[1/2] FROM base"))
        .build());
    p.accept(StatusResponse.newBuilder().addVertexes(Vertex.newBuilder().setDigest("d1").setName("[1/2] FROM base")
        .setCached(true).setStarted(ts(10, 0)).setCompleted(ts(10, 0))).build());
    p.accept(StatusResponse.newBuilder().addVertexes(Vertex.newBuilder().setDigest("d2").setName("[2/2] RUN make")
        .setStarted(ts(10, 0))).build());
    p.accept(log("d2", "hel"));
    p.accept(log("d2", "lo\nwor"));
    p.accept(log("d2", "ld topsecret\n"));
    p.accept(StatusResponse.newBuilder().addStatuses(VertexStatus.newBuilder().setVertex("d2").setId("transferring")
        .setCurrent(2048).setTotal(2048).setStarted(ts(10, 0)).setCompleted(ts(10, 500_000_000))).build());
    p.accept(StatusResponse.newBuilder().addVertexes(Vertex.newBuilder().setDigest("d2").setName("[2/2] RUN make")
        .setStarted(ts(10, 0)).setCompleted(ts(11, 250_000_000))).build());
    p.accept(StatusResponse.newBuilder().addVertexes(Vertex.newBuilder().setDigest("d3").setName("[3/3] RUN false")
        .setStarted(ts(12, 0))).build());
    p.accept(log("d3", "partial without newline"));
    p.accept(StatusResponse.newBuilder().addVertexes(Vertex.newBuilder().setDigest("d3").setName("[3/3] RUN false")
        .setStarted(ts(12, 0)).setCompleted(ts(12, 0)).setError("exit code: 1")).build());
    p.finish();
    assertEquals(List.of(
        "#1 [1/2] FROM base",
        "#1 CACHED",
        "#2 [2/2] RUN make",
        "#2 hello",
        "#2 world ****",
        "#2 transferring 2.05kB / 2.05kB 0.5s done",
        "#2 DONE 1.3s",
        "#3 [3/3] RUN false",
        "#3 partial without newline",
        "#3 ERROR: exit code: 1"), out);
    ProgressPrinter.Failure f = p.failure();
    assertEquals("[3/3] RUN false", f.step());
    assertEquals(List.of("partial without newline"), f.logTail());
  }

  @Test
  void endlessOutputWithoutNewlineIsBoundedAndCutWithItsLength() {
    List<String> out = new ArrayList<>();
    ProgressPrinter p = new ProgressPrinter(out::add, Set.of("s3cr3t-value"));
    p.accept(StatusResponse.newBuilder().addVertexes(Vertex.newBuilder().setDigest("d").setName("RUN yes")
        .setStarted(ts(1, 0))).build());
    String chunk = "x".repeat(1 << 20);
    for (int i = 0; i < 50; i++) {
      p.accept(log("d", chunk));
      assertTrue(p.bufferedBytes() <= ProgressPrinter.MAX_LINE + 64, "buffered " + p.bufferedBytes());
    }
    p.accept(log("d", "\nshort " + "y".repeat(ProgressPrinter.MAX_LINE - 20) + "s3cr3t-value and more\n"));
    p.finish();
    assertEquals("#1 RUN yes", out.get(0));
    assertEquals("#1 " + "x".repeat(ProgressPrinter.MAX_LINE) + "… [cut: 52428800 bytes]", out.get(1));
    assertTrue(out.get(2).contains("****") && !out.get(2).contains("s3cr3t"), "masked across the cut: " + out.get(2)
        .substring(out.get(2).length() - 60));
    assertTrue(out.get(2).endsWith("[cut: " + (ProgressPrinter.MAX_LINE - 20 + 6 + 12 + 9) + " bytes]"), out.get(2)
        .substring(out.get(2).length() - 60));
  }

  @Test
  void longStepNamesAndErrorsAreCutToo() {
    List<String> out = new ArrayList<>();
    ProgressPrinter p = new ProgressPrinter(out::add, Set.of());
    String run = "RUN echo " + "y".repeat(20_000);
    p.accept(StatusResponse.newBuilder().addVertexes(Vertex.newBuilder().setDigest("d").setName(run)
        .setStarted(ts(1, 0)).setCompleted(ts(2, 0)).setError("process \"" + run + "\" failed: exit code: 3")).build());
    for (String l : out) {
      assertTrue(l.length() < ProgressPrinter.MAX_LINE + 40, l.length() + " chars");
    }
    String cut = ProgressPrinter.cutMiddle("a".repeat(10_000) + " exit code: 3", 1500);
    assertTrue(cut.length() < 1600 && cut.endsWith("exit code: 3") && cut.contains("[cut: 10013 bytes]"), cut);
  }
}
