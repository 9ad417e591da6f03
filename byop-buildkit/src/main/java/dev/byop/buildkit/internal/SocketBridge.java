package dev.byop.buildkit.internal;

import io.grpc.netty.shaded.io.netty.bootstrap.ServerBootstrap;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelInitializer;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.local.LocalAddress;
import io.grpc.netty.shaded.io.netty.channel.local.LocalChannel;
import io.grpc.netty.shaded.io.netty.channel.local.LocalServerChannel;
import java.io.IOException;
import java.io.InputStream;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-JVM Netty {@link LocalServerChannel} whose every accepted connection is bridged byte for byte to a freshly
 * opened {@link ByteStream}. grpc-java's Netty transport connects to the local address as if it were the daemon.
 *
 * <p>Why: grpc-java cannot dial a Unix socket portably nor perform Docker's HTTP/1.1 {@code Upgrade: h2c} before
 * speaking HTTP/2; doing the upgrade on a plain socket and copying bytes keeps grpc-java's public API only.
 */
public final class SocketBridge implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SocketBridge.class);
  private final LocalAddress address;
  private final Channel server;

  public SocketBridge(EventLoopGroup group, Supplier<ByteStream> connector) {
    this.address = new LocalAddress("byop-bk-" + UUID.randomUUID());
    this.server = new ServerBootstrap()
        .group(group)
        .channel(QuietLocalChannel.Server.class)
        .childHandler(new ChannelInitializer<LocalChannel>() {
          @Override
          protected void initChannel(LocalChannel ch) {
            ch.config().setAutoRead(false);
            ch.pipeline().addLast(new Pump(connector));
          }
        })
        .bind(address)
        .syncUninterruptibly()
        .channel();
  }

  /** Where grpc-java should connect. */
  public LocalAddress address() {
    return address;
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
  }

  /** Copies bytes between one local channel and one byte stream (reader thread in, writer thread out). */
  private static final class Pump extends ChannelInboundHandlerAdapter {
    private final Supplier<ByteStream> connector;
    private volatile ByteStream stream;
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> daemon(r, "byop-bk-bridge-w"));

    Pump(Supplier<ByteStream> connector) {
      this.connector = connector;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      Channel ch = ctx.channel();
      try {
        stream = connector.get();
      } catch (RuntimeException e) {
        LOG.debug("bridge connect failed: {}", e.toString());
        ctx.close();
        writer.shutdown();
        return;
      }
      Thread reader = daemon(() -> {
        byte[] buf = new byte[64 * 1024];
        try {
          InputStream in = stream.input();
          int n;
          while ((n = in.read(buf)) > 0) {
            ch.writeAndFlush(Unpooled.copiedBuffer(buf, 0, n));
          }
        } catch (IOException e) {
          LOG.debug("bridge read ended: {}", e.toString());
        } finally {
          ch.close();
        }
      }, "byop-bk-bridge-r");
      reader.start();
      ch.config().setAutoRead(true);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf buf = (ByteBuf) msg;
      byte[] bytes = new byte[buf.readableBytes()];
      buf.readBytes(bytes);
      buf.release();
      writer.execute(() -> {
        try {
          stream.output().write(bytes);
        } catch (IOException e) {
          LOG.debug("bridge write failed: {}", e.toString());
          ctx.close();
        }
      });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      writer.execute(() -> {
        ByteStream s = stream;
        if (s != null) {
          s.close();
        }
      });
      writer.shutdown();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("bridge error: {}", cause.toString());
      ctx.close();
    }
  }

  static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }
}
