package dev.byop.buildkit.internal;

import io.grpc.netty.shaded.io.netty.channel.ChannelConfig;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.DefaultChannelConfig;
import io.grpc.netty.shaded.io.netty.channel.local.LocalChannel;
import io.grpc.netty.shaded.io.netty.channel.local.LocalServerChannel;

/**
 * An in-JVM channel that silently accepts the socket options grpc-java always sets ({@code SO_KEEPALIVE}), so that
 * every build does not log Netty's "Unknown channel option" warning into the host application's log.
 */
public final class QuietLocalChannel extends LocalChannel {
  // no initializer: LocalChannel's constructor already calls config(), before subclass fields are assigned
  private @org.jspecify.annotations.Nullable ChannelConfig quiet;

  public QuietLocalChannel() {
    super();
  }

  QuietLocalChannel(LocalServerChannel parent, LocalChannel peer) {
    super(parent, peer);
  }

  @Override
  public ChannelConfig config() {
    if (quiet == null) {
      quiet = new Config(this);
    }
    return quiet;
  }

  private static final class Config extends DefaultChannelConfig {
    Config(LocalChannel ch) {
      super(ch);
    }

    @Override
    public <T> boolean setOption(ChannelOption<T> option, T value) {
      if (option == ChannelOption.SO_KEEPALIVE || option == ChannelOption.TCP_NODELAY) {
        return true; // meaningless in memory
      }
      return super.setOption(option, value);
    }
  }

  /** The server side: accepted channels are quiet too. */
  public static final class Server extends LocalServerChannel {
    @Override
    protected LocalChannel newLocalChannel(LocalChannel peer) {
      return new QuietLocalChannel(this, peer);
    }
  }
}
