package dev.byop.buildkit.internal;

import com.google.protobuf.ByteString;
import dev.byop.buildkit.internal.proto.BytesMessage;
import dev.byop.buildkit.internal.proto.ControlGrpc;
import io.grpc.BindableService;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.bootstrap.Bootstrap;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.local.LocalAddress;
import io.grpc.netty.shaded.io.netty.channel.local.LocalChannel;
import io.grpc.netty.shaded.io.netty.channel.local.LocalServerChannel;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A BuildKit session: our gRPC server (Health, FileSync, Auth, Secrets) on an in-JVM Netty
 * {@link LocalServerChannel}, its HTTP/2 byte stream carried inside the {@code Control/Session} bidi call, where
 * the daemon is the HTTP/2 client.
 */
public final class Session implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Session.class);
  /** Docker 20.10 rejects session messages of 4 MiB and more. */
  private static final int MAX_CHUNK = 1024 * 1024;

  private final String id = UUID.randomUUID().toString().replace("-", "");
  private final Server server;
  private final Channel raw;
  private final @org.jspecify.annotations.Nullable ByteStream stream;
  private volatile @org.jspecify.annotations.Nullable StreamObserver<BytesMessage> toDaemon;
  private volatile boolean closed;

  /**
   * Starts the session server and carries it over the {@code Control/Session} stream (standalone buildkitd, or any
   * daemon when {@code stream} is null), or over a raw byte stream that {@code streamOpener} opens with the session
   * headers (Docker's {@code /session} upgrade, one HTTP/2 layer fewer).
   */
  public Session(ControlGrpc.ControlStub control, EventLoopGroup group, ExecutorService executor, String name,
      String sharedKey, List<BindableService> services,
      java.util.function.@org.jspecify.annotations.Nullable Function<Map<String, List<String>>, ByteStream> streamOpener)
      throws IOException {
    LocalAddress address = new LocalAddress("byop-bk-session-" + id);
    NettyServerBuilder sb = NettyServerBuilder.forAddress(address)
        .channelType(QuietLocalChannel.Server.class)
        .bossEventLoopGroup(group)
        .workerEventLoopGroup(group)
        .executor(executor)
        .maxInboundMessageSize(64 * 1024 * 1024)
        .intercept(new SessionMetadata());
    List<String> methods = new ArrayList<>();
    for (BindableService s : services) {
      ServerServiceDefinition def = s.bindService();
      sb.addService(def);
      for (ServerMethodDefinition<?, ?> m : def.getMethods()) {
        String full = m.getMethodDescriptor().getFullMethodName();
        // only what we really implement; the daemon calls only what is listed
        if (!full.endsWith("/FetchToken") && !full.endsWith("/GetTokenAuthority")) {
          methods.add("/" + full);
        }
      }
    }
    this.server = sb.build().start();
    Map<String, List<String>> headers = new LinkedHashMap<>();
    headers.put("X-Docker-Expose-Session-Uuid", List.of(id));
    headers.put("X-Docker-Expose-Session-Name", List.of(name));
    headers.put("X-Docker-Expose-Session-Sharedkey", List.of(sharedKey));
    headers.put("X-Docker-Expose-Session-Grpc-Method", methods);
    if (streamOpener != null) {
      ByteStream stream = streamOpener.apply(headers);
      this.stream = stream;
      this.raw = pumpStream(group, address, stream);
      return;
    }
    this.stream = null;
    Metadata md = new Metadata();
    headers.forEach((k, vs) -> vs.forEach(v -> md.put(key(k.toLowerCase(java.util.Locale.ROOT)), v)));
    // Order matters: our server may write its SETTINGS as soon as the raw channel connects, and the daemon writes
    // as soon as the Session call starts. Bytes for the daemon wait in `pending` (touched only on the raw channel's
    // event loop) until the call exists; bytes from the daemon go to the already connected raw channel.
    List<byte[]> pending = new ArrayList<>();
    this.raw = new Bootstrap().group(group).channel(QuietLocalChannel.class)
        .handler(new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
              while (buf.isReadable()) {
                int n = Math.min(buf.readableBytes(), MAX_CHUNK);
                byte[] b = new byte[n];
                buf.readBytes(b);
                if (toDaemon == null) {
                  pending.add(b);
                } else if (!closed) {
                  toDaemon.onNext(BytesMessage.newBuilder().setData(ByteString.copyFrom(b)).build());
                }
              }
            } finally {
              buf.release();
            }
          }

          @Override
          public void channelInactive(ChannelHandlerContext ctx) {
            if (!closed && toDaemon != null) {
              closed = true;
              toDaemon.onCompleted();
            }
          }
        })
        .connect(address).syncUninterruptibly().channel();
    StreamObserver<BytesMessage> fromDaemon = new StreamObserver<>() {
      @Override
      public void onNext(BytesMessage m) {
        raw.writeAndFlush(Unpooled.wrappedBuffer(m.getData().toByteArray()));
      }

      @Override
      public void onError(Throwable t) {
        LOG.debug("session {} stream ended: {}", id, t.toString());
        raw.close();
      }

      @Override
      public void onCompleted() {
        raw.close();
      }
    };
    StreamObserver<BytesMessage> call =
        control.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md)).session(fromDaemon);
    raw.eventLoop().execute(() -> {
      toDaemon = call;
      for (byte[] b : pending) {
        call.onNext(BytesMessage.newBuilder().setData(ByteString.copyFrom(b)).build());
      }
      pending.clear();
      if (!raw.isActive() && !closed) {
        closed = true;
        call.onCompleted();
      }
    });
  }

  private static Metadata.Key<String> key(String k) {
    return Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER);
  }

  /** Connects a client channel to our server and copies bytes between it and the daemon's raw stream. */
  private static Channel pumpStream(EventLoopGroup group, LocalAddress address, ByteStream stream) {
    Channel ch = new Bootstrap().group(group).channel(QuietLocalChannel.class)
        .handler(new ChannelInboundHandlerAdapter() {
          // HTTP/2 arrives as one ByteBuf per 16 KiB frame (and one per 9-byte frame header); gathering them
          // until the end of a read batch turns thousands of small socket writes into a few large ones. Copied
          // once, straight from each ByteBuf into this array (was twice: via a chunk array into a buffered stream)
          private final java.io.OutputStream out = stream.output();
          private final byte[] pending = new byte[256 * 1024];
          private int used;

          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            // written on the event loop itself: a local socket write rarely blocks, and a thread hand-off per
            // batch costs more than it saves (HTTP/2 flow control makes throughput latency-bound)
            ByteBuf buf = (ByteBuf) msg;
            try {
              while (buf.isReadable()) {
                if (used == pending.length) {
                  out.write(pending, 0, used);
                  used = 0;
                }
                int n = Math.min(pending.length - used, buf.readableBytes());
                buf.readBytes(pending, used, n);
                used += n;
              }
            } catch (IOException e) {
              ctx.close();
            } finally {
              buf.release();
            }
          }

          @Override
          public void channelReadComplete(ChannelHandlerContext ctx) {
            try {
              if (used > 0) {
                out.write(pending, 0, used);
                used = 0;
              }
              out.flush();
            } catch (IOException e) {
              ctx.close();
            }
          }

          @Override
          public void channelInactive(ChannelHandlerContext ctx) {
            stream.close();
          }
        })
        .connect(address).syncUninterruptibly().channel();
    Thread reader = SocketBridge.daemon(() -> {
      byte[] buf = new byte[256 * 1024];
      try {
        int n;
        while ((n = stream.input().read(buf)) > 0) {
          ch.writeAndFlush(Unpooled.copiedBuffer(buf, 0, n));
        }
      } catch (IOException e) {
        LOG.debug("session stream ended: {}", e.toString());
      } finally {
        ch.close();
      }
    }, "byop-bk-session-r");
    reader.start();
    return ch;
  }

  /** The session id that goes into {@code SolveRequest.session}. */
  public String id() {
    return id;
  }

  @Override
  public void close() {
    ByteStream st = stream;
    if (st != null) {
      raw.close();
      st.close();
      server.shutdownNow();
      return;
    }
    raw.eventLoop().execute(() -> {
      if (!closed && toDaemon != null) {
        closed = true;
        toDaemon.onCompleted();
      }
      raw.close();
    });
    server.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
