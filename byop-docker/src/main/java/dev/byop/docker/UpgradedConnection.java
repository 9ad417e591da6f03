package dev.byop.docker;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import dev.byop.docker.internal.EngineConnection;

/**
 * The raw byte stream of a connection after the engine answered {@code 101 Switching Protocols}
 * (for example {@code POST /grpc} with {@code Upgrade: h2c}); input and output may be used by two threads.
 */
public final class UpgradedConnection implements AutoCloseable {
  private final EngineConnection channel;
  private final InputStream in;
  private final OutputStream out;

  UpgradedConnection(EngineConnection channel, InputStream in, OutputStream out) {
    this.channel = channel;
    this.in = in;
    this.out = out;
  }

  /** Bytes from the engine, starting right after the 101 response head. */
  public InputStream input() {
    return in;
  }

  /** Bytes to the engine; unbuffered. */
  public OutputStream output() {
    return out;
  }

  /** Half-closes the sending side. */
  public void shutdownOutput() throws IOException {
    channel.shutdownOutput();
  }

  public boolean isOpen() {
    return channel.isOpen();
  }

  @Override
  public void close() {
    channel.close();
  }
}
