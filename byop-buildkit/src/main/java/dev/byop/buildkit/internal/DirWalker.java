package dev.byop.buildkit.internal;

import dev.byop.buildkit.internal.proto.Stat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
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
  /** One entry to send. */
  public record Entry(String path, Path file, Stat stat) {
    public boolean isRegular() {
      return (stat.getMode() & (GoFileMode.DIR | GoFileMode.SYMLINK | GoFileMode.DEVICE | GoFileMode.NAMED_PIPE
          | GoFileMode.SOCKET)) == 0;
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

  public DirWalker(Path root, List<String> includePatterns, List<String> excludePatterns) {
    this.root = root;
    this.includes = new PatternMatcher(includePatterns);
    this.excludes = new PatternMatcher(excludePatterns);
  }

  public void walk(Visitor v) throws IOException {
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
      Stat stat = stat(file, path);
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
      Entry e = new Entry(path, file, stat);
      if (selected) {
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

  /** The fsutil Stat of one file, mode as Go FileMode, no symlink following. */
  public static Stat stat(Path file, String relPath) throws IOException {
    Map<String, Object> a = Files.readAttributes(file, "unix:mode,uid,gid,size,lastModifiedTime",
        LinkOption.NOFOLLOW_LINKS);
    int mode = GoFileMode.fromUnix((Integer) a.get("mode"));
    Stat.Builder b = Stat.newBuilder()
        .setPath(relPath)
        .setMode(mode)
        .setUid((Integer) a.get("uid"))
        .setGid((Integer) a.get("gid"))
        .setModTime(nanos((FileTime) a.get("lastModifiedTime")));
    if ((mode & GoFileMode.SYMLINK) != 0) {
      b.setLinkname(Files.readSymbolicLink(file).toString());
    } else if ((mode & (GoFileMode.DIR | GoFileMode.DEVICE | GoFileMode.NAMED_PIPE | GoFileMode.SOCKET)) == 0) {
      b.setSize((Long) a.get("size"));
    }
    return b.build();
  }

  private static long nanos(FileTime t) {
    java.time.Instant i = t.toInstant();
    return TimeUnit.SECONDS.toNanos(i.getEpochSecond()) + i.getNano();
  }
}
