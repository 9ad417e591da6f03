package dev.byop.buildkit.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.byop.buildkit.internal.proto.FileSyncGrpc;
import dev.byop.buildkit.internal.proto.Packet;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves local directories to the daemon with fsutil's DiffCopy protocol: one STAT per entry, an empty STAT at
 * the end, then DATA for each REQ'd file id, FIN for FIN. Sends respect gRPC flow control, so a large context is
 * streamed, never buffered.
 */
public final class FileSyncService extends FileSyncGrpc.FileSyncImplBase {
  private static final Logger LOG = LoggerFactory.getLogger(FileSyncService.class);
  /** Go's sender uses 32 KiB; bigger chunks halve the per-message work and stay far below the 4 MiB limits. */
  private static final int CHUNK = 1024 * 1024;
  /** Stands for an entry sent as an empty file (a socket): never opened. */
  private static final Path NO_CONTENT = Path.of("");
  private final Map<String, Path> dirs;
  private final ExecutorService executor;
  private final AtomicLong bytesSent;

  public FileSyncService(Map<String, Path> dirs, ExecutorService executor, AtomicLong bytesSent) {
    this.dirs = Map.copyOf(dirs);
    this.executor = executor;
    this.bytesSent = bytesSent;
  }

  @Override
  public StreamObserver<Packet> diffCopy(StreamObserver<Packet> responseObserver) {
    ServerCallStreamObserver<Packet> out = (ServerCallStreamObserver<Packet>) responseObserver;
    List<String> dirName = SessionMetadata.all("dir-name");
    Path root = dirName.isEmpty() ? null : dirs.get(dirName.get(0));
    if (root == null) {
      out.onError(Status.NOT_FOUND.withDescription("no access allowed to dir " + dirName).asRuntimeException());
      return new StreamObserver<>() {
        @Override public void onNext(Packet value) { }
        @Override public void onError(Throwable t) { }
        @Override public void onCompleted() { }
      };
    }
    List<String> includes = decoded("include-patterns");
    List<String> excludes = decoded("exclude-patterns");
    List<String> follow = decoded("followpaths");
    List<String> allIncludes = new ArrayList<>(includes);
    for (String f : follow) {
      allIncludes.add(escapeGlob(f));
      Path link = root.resolve(f).normalize();
      if (link.startsWith(root) && Files.isSymbolicLink(link)) {
        try {
          Path target = link.getParent().resolve(Files.readSymbolicLink(link)).normalize();
          if (target.startsWith(root)) {
            allIncludes.add(escapeGlob(root.relativize(target).toString()));
          }
        } catch (IOException e) {
          // a dangling follow path is simply not there
        }
      }
    }
    LOG.debug("DiffCopy {} ({}) includes={} excludes={} follow={}", dirName, root, includes, excludes, follow);
    DirWalker walker;
    try {
      walker = new DirWalker(root, allIncludes, excludes);
    } catch (PatternMatcher.BadPatternException e) {
      // the daemon passes .dockerignore on as it is; a pattern we cannot match is the user's error, said plainly
      out.onError(Status.INVALID_ARGUMENT.withDescription(".dockerignore: " + e.getMessage()).asRuntimeException());
      return new StreamObserver<>() {
        @Override public void onNext(Packet value) { }
        @Override public void onError(Throwable t) { }
        @Override public void onCompleted() { }
      };
    }
    Sender sender = new Sender(out, walker);
    // with the default 32 KiB threshold every 256 KiB chunk would wait for the transport to drain completely
    out.setOnReadyThreshold(4 * CHUNK);
    out.setOnReadyHandler(sender::ready);
    out.setOnCancelHandler(sender::cancelled);
    executor.execute(sender);
    return sender.inbound;
  }

  private static List<String> decoded(String key) {
    List<String> v = SessionMetadata.all(key);
    if (!SessionMetadata.all(key + "-encoded").isEmpty()) {
      List<String> d = new ArrayList<>();
      for (String s : v) {
        d.add(URLDecoder.decode(s, StandardCharsets.UTF_8));
      }
      return d;
    }
    return v;
  }

  /** Fills {@code buf} from {@code in} up to its length or the end of the file; the count read (0 at the end). */
  private static int readFully(java.nio.channels.ReadableByteChannel in, byte[] buf) throws IOException {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(buf);
    while (b.hasRemaining() && in.read(b) >= 0) {
      // a file channel reads until the end; the loop only covers short reads
    }
    return b.position();
  }

  private static String escapeGlob(String s) {
    StringBuilder b = new StringBuilder();
    for (char c : s.toCharArray()) {
      if ("*?[]\\".indexOf(c) >= 0) {
        b.append('\\');
      }
      b.append(c);
    }
    return b.toString();
  }

  private final class Sender implements Runnable {
    private final ServerCallStreamObserver<Packet> out;
    private final DirWalker walker;
    private final BlockingQueue<Packet> requests = new LinkedBlockingQueue<>();
    private final Object readyLock = new Object();
    private volatile boolean cancelled;
    private final Map<Integer, Path> files = new HashMap<>();
    private final SafePaths.Opener opener = new SafePaths.Opener();

    final StreamObserver<Packet> inbound = new StreamObserver<>() {
      @Override
      public void onNext(Packet p) {
        requests.add(p);
      }

      @Override
      public void onError(Throwable t) {
        cancelled();
      }

      @Override
      public void onCompleted() {
        requests.add(Packet.newBuilder().setType(Packet.PacketType.PACKET_FIN).build());
      }
    };

    Sender(ServerCallStreamObserver<Packet> out, DirWalker walker) {
      this.out = out;
      this.walker = walker;
    }

    void ready() {
      synchronized (readyLock) {
        readyLock.notifyAll();
      }
    }

    void cancelled() {
      cancelled = true;
      requests.add(Packet.newBuilder().setType(Packet.PacketType.PACKET_ERR).build());
      ready();
    }

    private long waitNanos;
    private final long startNanos = System.nanoTime();

    private void send(Packet p) throws InterruptedException {
      long t0 = System.nanoTime();
      synchronized (readyLock) {
        while (!out.isReady() && !cancelled) {
          readyLock.wait(100);
        }
      }
      waitNanos += System.nanoTime() - t0;
      if (cancelled) {
        throw new InterruptedException("DiffCopy cancelled by the daemon");
      }
      out.onNext(p);
    }

    @Override
    public void run() {
      try (opener) {
        int[] counter = {0};
        walker.walk(e -> {
          int id = counter[0]++;
          if (e.isRegular()) {
            files.put(id, e.readable() ? e.file() : NO_CONTENT);
          }
          try {
            send(Packet.newBuilder().setType(Packet.PacketType.PACKET_STAT).setStat(e.stat()).build());
          } catch (InterruptedException ie) {
            throw new IOException(ie.getMessage());
          }
        });
        send(Packet.newBuilder().setType(Packet.PacketType.PACKET_STAT).build());
        byte[] buf = new byte[CHUNK];
        while (true) {
          Packet p = requests.take();
          switch (p.getType()) {
            case PACKET_REQ -> {
              Path f = files.get(p.getId());
              if (f == null) {
                throw new IOException("daemon requested unknown file id " + p.getId());
              }
              if (f == NO_CONTENT) {
                send(Packet.newBuilder().setType(Packet.PacketType.PACKET_DATA).setId(p.getId()).build());
                continue;
              }
              // opened without following any link on the way: content never comes from outside the root
              try (java.nio.channels.SeekableByteChannel in = opener.openFile(f)) {
                int n;
                while ((n = readFully(in, buf)) > 0) {
                  // the chunk is wrapped, not copied: this array is never written again (the next one is new),
                  // which saves a 95 MiB copy per 95 MiB sent (issue 14: upload CPU competes with the daemon)
                  ByteString data = UnsafeByteOperations.unsafeWrap(buf, 0, n);
                  buf = new byte[CHUNK];
                  send(Packet.newBuilder().setType(Packet.PacketType.PACKET_DATA).setId(p.getId())
                      .setData(data).build());
                  bytesSent.addAndGet(n);
                }
              }
              send(Packet.newBuilder().setType(Packet.PacketType.PACKET_DATA).setId(p.getId()).build());
            }
            case PACKET_FIN -> {
              LOG.debug("DiffCopy done in {} ms, {} ms of it waiting for flow control",
                  (System.nanoTime() - startNanos) / 1_000_000, waitNanos / 1_000_000);
              if (!cancelled) {
                send(Packet.newBuilder().setType(Packet.PacketType.PACKET_FIN).build());
                out.onCompleted();
              }
              return;
            }
            case PACKET_ERR -> {
              if (!cancelled) {
                out.onError(Status.ABORTED.withDescription(p.getData().toStringUtf8()).asRuntimeException());
              }
              return;
            }
            default -> { }
          }
        }
      } catch (InterruptedException e) {
        LOG.debug("DiffCopy stopped: {}", e.getMessage());
      } catch (IOException | RuntimeException e) {
        LOG.debug("DiffCopy failed", e);
        if (!cancelled) {
          try {
            out.onNext(Packet.newBuilder().setType(Packet.PacketType.PACKET_ERR)
                .setData(ByteString.copyFromUtf8(String.valueOf(e.getMessage()))).build());
            out.onError(Status.INTERNAL.withDescription(e.getMessage()).asRuntimeException());
          } catch (RuntimeException ignored) {
            // the call is gone already
          }
        }
      }
    }
  }
}
