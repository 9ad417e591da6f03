package dev.byop.preview.ssh;

import java.io.IOException;
import java.io.OutputStream;

/** Writes a remote command's standard input; the stream is closed (EOF sent) by the caller afterwards. */
@FunctionalInterface
interface StdinSource {

  /** No input: the remote side sees EOF immediately. */
  StdinSource NONE = out -> {};

  /** Writes the whole input into {@code out}. */
  void writeTo(OutputStream out) throws IOException;

  /** A fixed input, e.g. a password for {@code --password-stdin}. */
  static StdinSource of(byte[] bytes) {
    byte[] copy = bytes.clone();
    return out -> out.write(copy);
  }
}
