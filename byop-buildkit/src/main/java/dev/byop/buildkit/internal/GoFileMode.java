package dev.byop.buildkit.internal;

/** Converts a Unix {@code st_mode} into Go's {@code os.FileMode} bits, which is what fsutil's Stat.mode carries. */
public final class GoFileMode {
  public static final int DIR = 1 << 31;
  public static final int SYMLINK = 1 << 27;
  public static final int DEVICE = 1 << 26;
  public static final int NAMED_PIPE = 1 << 25;
  public static final int SOCKET = 1 << 24;
  public static final int SETUID = 1 << 23;
  public static final int SETGID = 1 << 22;
  public static final int CHAR_DEVICE = 1 << 21;
  public static final int STICKY = 1 << 20;
  /** Every type bit but {@link #DIR}: symlink, device, pipe, socket (Go's ModeType also holds irregular). */
  public static final int TYPE = SYMLINK | DEVICE | NAMED_PIPE | SOCKET | CHAR_DEVICE;

  private GoFileMode() {}

  public static int fromUnix(int st) {
    int m = st & 0777;
    switch (st & 0170000) {
      case 0040000 -> m |= DIR;
      case 0120000 -> m |= SYMLINK;
      case 0060000 -> m |= DEVICE;
      case 0020000 -> m |= DEVICE | CHAR_DEVICE;
      case 0010000 -> m |= NAMED_PIPE;
      case 0140000 -> m |= SOCKET;
      default -> { }
    }
    if ((st & 04000) != 0) {
      m |= SETUID;
    }
    if ((st & 02000) != 0) {
      m |= SETGID;
    }
    if ((st & 01000) != 0) {
      m |= STICKY;
    }
    return m;
  }
}
