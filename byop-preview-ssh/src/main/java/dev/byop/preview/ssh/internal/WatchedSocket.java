package dev.byop.preview.ssh.internal;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;

/**
 * A socket that remembers when it last received bytes, so a watchdog can tell a dead link from a quiet one.
 *
 * <p>sshj's keep-alive cannot: when a link dies mid-transfer the socket's send buffer is full, the keep-alive thread
 * blocks writing its request behind the data, and nothing fails until TCP gives up (many minutes). With keep-alives on,
 * a live peer answers every interval, so a socket that received nothing for several intervals is dead; closing it
 * unblocks every writer at once.
 */
public final class WatchedSocket extends Socket {

  private volatile long lastRead = System.nanoTime();
  private InputStream in;

  /** Nanoseconds since bytes last arrived (or since the socket was made). */
  public long idleNanos() {
    return System.nanoTime() - lastRead;
  }

  @Override
  public synchronized InputStream getInputStream() throws IOException {
    if (in == null) {
      in = new FilterInputStream(super.getInputStream()) {
        @Override
        public int read() throws IOException {
          int b = super.read();
          lastRead = System.nanoTime();
          return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          int n = super.read(b, off, len);
          if (n > 0) {
            lastRead = System.nanoTime();
          }
          return n;
        }
      };
    }
    return in;
  }

  /** Closes the socket without a word to the peer (a dead link would not carry it). */
  public void closeQuietly() {
    try {
      close();
    } catch (IOException ignored) {
      // closed is what we wanted
    }
  }
}
