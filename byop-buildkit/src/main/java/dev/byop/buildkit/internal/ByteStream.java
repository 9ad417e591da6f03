package dev.byop.buildkit.internal;

import java.io.InputStream;
import java.io.OutputStream;

/** A full-duplex byte stream (an upgraded Docker connection, a Unix socket) that a bridge can carry. */
public interface ByteStream extends AutoCloseable {
  InputStream input();

  OutputStream output();

  @Override
  void close();
}
