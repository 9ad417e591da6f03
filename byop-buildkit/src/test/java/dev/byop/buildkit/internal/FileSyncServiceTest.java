package dev.byop.buildkit.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.buildkit.internal.proto.FileSyncGrpc;
import dev.byop.buildkit.internal.proto.Packet;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.DefaultEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.local.LocalAddress;
import io.grpc.netty.shaded.io.netty.channel.local.LocalChannel;
import io.grpc.netty.shaded.io.netty.channel.local.LocalServerChannel;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Plays the daemon's side of fsutil DiffCopy against our sender over a real (in-JVM) gRPC connection. */
class FileSyncServiceTest {
  @Test
  void statsThenRequestedDataThenFin(@TempDir Path root) throws Exception {
    Files.createDirectories(root.resolve("d"));
    byte[] big = new byte[700_000];
    new Random(1).nextBytes(big);
    Files.write(root.resolve("d/big"), big);
    Files.writeString(root.resolve("a.txt"), "a");
    Files.writeString(root.resolve("skip.log"), "x");
    DefaultEventLoopGroup group = new DefaultEventLoopGroup(1);
    ExecutorService ex = Executors.newCachedThreadPool();
    LocalAddress addr = new LocalAddress("fs-test-" + System.nanoTime());
    AtomicLong sent = new AtomicLong();
    Server server = NettyServerBuilder.forAddress(addr).channelType(QuietLocalChannel.Server.class).bossEventLoopGroup(group)
        .workerEventLoopGroup(group).executor(ex).intercept(new SessionMetadata())
        .addService(new FileSyncService(Map.of("context", root), ex, sent)).build().start();
    ManagedChannel ch = NettyChannelBuilder.forAddress(addr).channelType(QuietLocalChannel.class).eventLoopGroup(group)
        .usePlaintext().build();
    try {
      Metadata md = new Metadata();
      md.put(Metadata.Key.of("dir-name", Metadata.ASCII_STRING_MARSHALLER), "context");
      md.put(Metadata.Key.of("exclude-patterns", Metadata.ASCII_STRING_MARSHALLER), "*.log");
      List<Packet> stats = new ArrayList<>();
      Map<Integer, ByteArrayOutputStream> data = new HashMap<>();
      CompletableFuture<Void> done = new CompletableFuture<>();
      StreamObserver<Packet>[] req = new StreamObserver[1];
      req[0] = FileSyncGrpc.newStub(ch).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
          .diffCopy(new StreamObserver<>() {
            int open;

            @Override
            public synchronized void onNext(Packet p) {
              switch (p.getType()) {
                case PACKET_STAT -> {
                  if (!p.hasStat()) {
                    for (int id = 0; id < stats.size(); id++) {
                      if ((stats.get(id).getStat().getMode() & GoFileMode.DIR) == 0) {
                        open++;
                        req[0].onNext(Packet.newBuilder().setType(Packet.PacketType.PACKET_REQ).setId(id).build());
                      }
                    }
                  } else {
                    stats.add(p);
                  }
                }
                case PACKET_DATA -> {
                  if (p.getData().isEmpty()) {
                    if (--open == 0) {
                      req[0].onNext(Packet.newBuilder().setType(Packet.PacketType.PACKET_FIN).build());
                    }
                  } else {
                    data.computeIfAbsent(p.getId(), k -> new ByteArrayOutputStream()).writeBytes(p.getData().toByteArray());
                  }
                }
                case PACKET_FIN -> req[0].onCompleted();
                default -> done.completeExceptionally(new AssertionError("unexpected " + p));
              }
            }

            @Override
            public void onError(Throwable t) {
              done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
              done.complete(null);
            }
          });
      done.get(20, TimeUnit.SECONDS);
      assertEquals(List.of("a.txt", "d", "d/big"), stats.stream().map(p -> p.getStat().getPath()).toList());
      assertEquals("a", data.get(0).toString());
      assertArrayEquals(big, data.get(2).toByteArray());
      assertEquals(big.length + 1, sent.get());
      assertTrue((stats.get(1).getStat().getMode() & GoFileMode.DIR) != 0);
    } finally {
      ch.shutdownNow();
      server.shutdownNow();
      ex.shutdownNow();
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  @Test
  void unknownDirIsNotFound() throws Exception {
    DefaultEventLoopGroup group = new DefaultEventLoopGroup(1);
    ExecutorService ex = Executors.newCachedThreadPool();
    LocalAddress addr = new LocalAddress("fs-test-" + System.nanoTime());
    Server server = NettyServerBuilder.forAddress(addr).channelType(QuietLocalChannel.Server.class).bossEventLoopGroup(group)
        .workerEventLoopGroup(group).executor(ex).intercept(new SessionMetadata())
        .addService(new FileSyncService(Map.of(), ex, new AtomicLong())).build().start();
    ManagedChannel ch = NettyChannelBuilder.forAddress(addr).channelType(QuietLocalChannel.class).eventLoopGroup(group)
        .usePlaintext().build();
    try {
      Metadata md = new Metadata();
      md.put(Metadata.Key.of("dir-name", Metadata.ASCII_STRING_MARSHALLER), "secret-dir");
      CompletableFuture<Throwable> err = new CompletableFuture<>();
      FileSyncGrpc.newStub(ch).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
          .diffCopy(new StreamObserver<>() {
            @Override public void onNext(Packet p) { }
            @Override public void onError(Throwable t) { err.complete(t); }
            @Override public void onCompleted() { err.complete(null); }
          });
      Throwable t = err.get(10, TimeUnit.SECONDS);
      assertEquals(io.grpc.Status.Code.NOT_FOUND, io.grpc.Status.fromThrowable(t).getCode());
    } finally {
      ch.shutdownNow();
      server.shutdownNow();
      ex.shutdownNow();
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }
}
