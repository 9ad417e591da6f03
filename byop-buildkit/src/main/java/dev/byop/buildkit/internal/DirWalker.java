package dev.byop.buildkit.internal;

import dev.byop.buildkit.internal.proto.Stat;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Walks a local directory the way fsutil's sender does: depth first, entries of each directory sorted bytewise by
 * their UTF-8 names, the root itself excluded, parents before children; include/exclude patterns applied with
 * directories emitted lazily when only something below them is selected.
 *
 * <p>Never follows a link: the root is opened with {@link SafePaths#openDirectory} (it must be a link-free path),
 * every directory below is opened relative to its parent with {@code NOFOLLOW_LINKS}, and links are reported as
 * links. A directory swapped for a link during the walk fails the walk.
 */
public final class DirWalker {
  /**
   * One entry to send.
   *
   * @param readable whether the daemon's request for the data is answered from the file; false for a socket, which
   *     is sent as an empty regular file
   */
  public record Entry(String path, Path file, Stat stat, boolean readable) {
    public boolean isRegular() {
      // a hard link's content is its target's: the daemon links it and never asks for data
      return (stat.getMode() & (GoFileMode.DIR | GoFileMode.TYPE)) == 0 && stat.getLinkname().isEmpty();
    }
  }

  /** Receives entries in order. */
  @FunctionalInterface
  public interface Visitor {
    void visit(Entry e) throws IOException;
  }

  /** Deeper than any real project; bounds the directories held open at once. */
  static final int MAX_DEPTH = 256;
  private final Path root;
  private final PatternMatcher includes;
  private final PatternMatcher excludes;
  private HardLinks hardLinks = new HardLinks();

  public DirWalker(Path root, List<String> includePatterns, List<String> excludePatterns) {
    this.root = root;
    this.includes = new PatternMatcher(includePatterns);
    this.excludes = new PatternMatcher(excludePatterns);
  }

  public void walk(Visitor v) throws IOException {
    hardLinks = new HardLinks();
    try (SecureDirectoryStream<Path> ds = SafePaths.openDirectory(root)) {
      walkDir(ds, root.toAbsolutePath().normalize(), "", new ArrayDeque<>(), v);
    }
  }

  private void walkDir(SecureDirectoryStream<Path> ds, Path dir, String rel, Deque<Entry> pending, Visitor v)
      throws IOException {
    if (rel.chars().filter(c -> c == '/').count() >= MAX_DEPTH) {
      // each level holds one open directory during the walk: a repository nested without end must not use up fds
      throw new IOException("the context nests directories deeper than " + MAX_DEPTH + " levels");
    }
    List<byte[]> names = new ArrayList<>();
    for (Path p : ds) {
      names.add(p.getFileName().toString().getBytes(StandardCharsets.UTF_8));
    }
    names.sort(Arrays::compareUnsigned);
    for (byte[] nb : names) {
      String name = new String(nb, StandardCharsets.UTF_8);
      String path = rel.isEmpty() ? name : rel + "/" + name;
      Path file = dir.resolve(name);
      Raw raw = read(file, path);
      Stat stat = raw.stat();
      boolean isDir = (stat.getMode() & GoFileMode.DIR) != 0;
      boolean selected = true;
      boolean descend = isDir;
      if (!includes.isEmpty() && !includes.matches(path)) {
        selected = false;
        descend = isDir && includes.couldMatchBelow(path);
      }
      if (selected && !excludes.isEmpty() && excludes.matches(path)) {
        selected = false;
        descend = isDir && excludes.hasExclusions();
      }
      Entry e = new Entry(path, file, stat, !raw.socket());
      if (selected) {
        // only sent names may be link targets: the daemon rejects a link to a name it has not seen
        Stat linked = hardLinks.apply(raw);
        if (linked != stat) {
          e = new Entry(path, file, linked, e.readable());
        }
        flush(pending, v);
        v.visit(e);
      }
      if (descend) {
        if (!selected) {
          pending.addLast(e);
        }
        // opened relative to this directory without following links: a link swapped in since the stat fails here
        try (SecureDirectoryStream<Path> child = SafePaths.openChild(ds, name)) {
          walkDir(child, file, path, pending, v);
        }
        if (!selected && !pending.isEmpty() && pending.peekLast() == e) {
          pending.removeLast();
        }
      }
    }
  }

  private static void flush(Deque<Entry> pending, Visitor v) throws IOException {
    while (!pending.isEmpty()) {
      v.visit(pending.removeFirst());
    }
  }

  /**
   * The fsutil Stat of one file as the Docker CLI sends it, mode as Go FileMode, no symlink following.
   *
   * <p>What the CLI's session sends (fsutil's {@code mkstat} with the CLI's {@code resetUIDAndGID} map) and how it is
   * matched here:
   * <ul>
   *   <li>uid and gid are always 0: the CLI resets them, so an image does not depend on who ran the build;
   *   <li>mode with the setuid/setgid/sticky bits, mtime in nanoseconds, size for every non-directory (for a link,
   *       the length of its text);
   *   <li>devices carry their major/minor numbers; a socket goes as an empty regular file (what the CLI's image holds);
   *   <li>the second and later names of one inode are sent as hard links ({@link #hardLink}), not as copies;
   *   <li>extended attributes: the CLI sends every attribute {@code llistxattr} shows. Java reads only the
   *       {@code user.*} namespace ({@link UserDefinedFileAttributeView}); {@code security.*} (e.g.
   *       {@code security.capability}), {@code trusted.*} and {@code system.*} (ACLs) cannot be read without native
   *       code and are not sent. Engine 20.10 keeps no xattr of the context in the image either (seen in
   *       FidelityIT), so only the build cache key can differ. Read on regular files and directories only: opening a
   *       FIFO for its attributes would block.
   * </ul>
   */
  public static Stat stat(Path file, String relPath) throws IOException {
    return read(file, relPath).stat();
  }

  /** A Stat plus what identifies its inode, for hard-link detection. */
  record Raw(Stat stat, long dev, long ino, int nlink, boolean socket) {
  }

  static Raw read(Path file, String relPath) throws IOException {
    Map<String, Object> a = Files.readAttributes(file, "unix:mode,size,lastModifiedTime,dev,ino,nlink,rdev",
        LinkOption.NOFOLLOW_LINKS);
    int unixMode = (Integer) a.get("mode");
    int mode = GoFileMode.fromUnix(unixMode);
    boolean socket = (mode & GoFileMode.SOCKET) != 0;
    if (socket) {
      // the Docker CLI's image holds a socket as an empty regular file with its permissions (the daemon asks for its
      // data like a file's; with the socket bit set it rejects its own request, "invalid file request")
      mode &= ~GoFileMode.SOCKET;
    }
    // uid/gid 0 like the Docker CLI's session (resetUIDAndGID), whoever owns the checkout
    Stat.Builder b = Stat.newBuilder()
        .setPath(relPath)
        .setMode(mode)
        .setModTime(nanos((FileTime) a.get("lastModifiedTime")));
    boolean isDir = (mode & GoFileMode.DIR) != 0;
    if (!isDir && !socket) {
      b.setSize((Long) a.get("size"));
    }
    if ((mode & GoFileMode.SYMLINK) != 0) {
      b.setLinkname(Files.readSymbolicLink(file).toString());
    } else if ((mode & GoFileMode.DEVICE) != 0) {
      long rdev = (Long) a.get("rdev");
      // glibc's gnu_dev_major/gnu_dev_minor encoding of dev_t
      b.setDevmajor(((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL));
      b.setDevminor((rdev & 0xff) | ((rdev >>> 12) & ~0xffL));
    }
    if (isDir || (mode & GoFileMode.TYPE) == 0 && !socket) {
      readUserXattrs(file, b);
    }
    return new Raw(b.build(), (Long) a.get("dev"), (Long) a.get("ino"), (Integer) a.get("nlink"), socket);
  }

  private static void readUserXattrs(Path file, Stat.Builder b) throws IOException {
    UserDefinedFileAttributeView view = Files.getFileAttributeView(file, UserDefinedFileAttributeView.class,
        LinkOption.NOFOLLOW_LINKS);
    if (view == null) {
      return;
    }
    List<String> names;
    try {
      names = view.list();
    } catch (UnsupportedOperationException | java.nio.file.FileSystemException e) {
      // a file system without user xattrs: fsutil skips ENOTSUP the same way
      return;
    }
    for (String name : names) {
      try {
        ByteBuffer buf = ByteBuffer.allocate(view.size(name));
        view.read(name, buf);
        b.putXattrs("user." + name, ByteString.copyFrom(buf.flip()));
      } catch (java.nio.file.FileSystemException e) {
        // removed since the listing: fsutil also keeps only the attributes it could read
      }
    }
  }

  /**
   * Keeps the first sent name of each multiply linked inode; a later name becomes a hard link to it, as fsutil's
   * sender does: linkname = the first name, size 0, and no data (the daemon makes the link, never asks for content).
   * Keyed by device and inode (fsutil keys by inode only, which can only differ for a context spanning mounts).
   */
  static final class HardLinks {
    private final Map<String, String> firstNames = new HashMap<>();

    Stat apply(Raw r) {
      Stat s = r.stat();
      if ((s.getMode() & GoFileMode.DIR) != 0 || r.nlink() <= 1) {
        return s;
      }
      String key = r.dev() + ":" + r.ino();
      String first = firstNames.putIfAbsent(key, s.getPath());
      if (first == null) {
        return s;
      }
      return s.toBuilder().setLinkname(first).setSize(0).build();
    }
  }

  private static long nanos(FileTime t) {
    java.time.Instant i = t.toInstant();
    return TimeUnit.SECONDS.toNanos(i.getEpochSecond()) + i.getNano();
  }
}
