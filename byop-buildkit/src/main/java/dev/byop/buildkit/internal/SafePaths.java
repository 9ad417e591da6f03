package dev.byop.buildkit.internal;

import dev.byop.core.BuildException;
import java.io.IOException;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Paths that a user names (context dir, Dockerfile), kept inside a checkout, and directories and files opened
 * without following symbolic links.
 *
 * <p>The design, against a link that leads out of the checkout, including one swapped in between check and use:
 * <ol>
 *   <li>{@link #inside} resolves the user's path once, <em>following</em> every link ({@code toRealPath}), and
 *       requires the result below the checkout's own real path. Errors show the user's repo-relative path only.
 *   <li>From then on only that real path is used. A real path holds no link, so it is opened with
 *       {@link #openDirectory}/{@link #openFile}: from {@code /}, one name at a time, each step an
 *       {@code openat(O_NOFOLLOW)} relative to the directory opened before ({@link SecureDirectoryStream}). A link
 *       swapped in for any component after the check makes the open fail instead of leading elsewhere; nothing is
 *       looked up by a path string that the file system could re-resolve through a new link.
 *   <li>The walk of the context ({@link DirWalker}) descends the same way and never follows a link: links inside
 *       the context are sent as links (as {@code docker build} does), and file content is read through
 *       {@link #openFile} only.
 * </ol>
 * Java offers no {@code readlinkat}/{@code fstatat}, so entry metadata (mode, size, link text) is read by path with
 * {@code NOFOLLOW_LINKS}; content, the part that could leak, never is.
 */
public final class SafePaths {
  private SafePaths() {
  }

  /**
   * The real path of {@code candidate} (links followed), which must lie below {@code root} (itself a real path).
   *
   * @param field the configuration field that named the path, e.g. {@code component.contextDir}
   * @param shown the path as the user wrote it, relative to the repository root; the only path an error shows
   * @throws BuildException when the path does not exist or leads outside {@code root}
   */
  public static Path inside(Path root, Path candidate, String field, String shown) {
    Path real;
    try {
      real = candidate.toRealPath();
    } catch (NoSuchFileException e) {
      throw new BuildException(field + " '" + shown + "' does not exist in the checkout");
    } catch (IOException e) {
      // the exception's text names host paths: only its kind is shown
      throw new BuildException(field + " '" + shown + "' cannot be resolved in the checkout ("
          + e.getClass().getSimpleName() + ")");
    }
    if (!real.startsWith(root)) {
      throw new BuildException(field + " '" + shown + "' leads outside the checkout through a symbolic link");
    }
    return real;
  }

  /** The real path of a directory byop made itself (a checkout), to compare user paths against. */
  public static Path real(Path dir) {
    try {
      return dir.toRealPath();
    } catch (IOException e) {
      throw new BuildException("the checkout is gone: " + e.getClass().getSimpleName(), e);
    }
  }

  /**
   * Opens an absolute, link-free directory path from {@code /} one name at a time without following links.
   *
   * @throws IOException when a component is missing, not a directory, or a symbolic link
   */
  public static SecureDirectoryStream<Path> openDirectory(Path dir) throws IOException {
    Path abs = dir.toAbsolutePath().normalize();
    DirectoryStream<Path> top = Files.newDirectoryStream(abs.getRoot());
    if (!(top instanceof SecureDirectoryStream<Path> cur)) {
      top.close();
      // every Linux JDK has them; refusing is safer than a walk that a swapped link could redirect
      throw new IOException("this platform offers no SecureDirectoryStream");
    }
    try {
      for (Path name : abs) {
        SecureDirectoryStream<Path> next = cur.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
        cur.close();
        cur = next;
      }
      return cur;
    } catch (IOException | RuntimeException e) {
      cur.close();
      throw e;
    }
  }

  /** Opens a child directory of an open one, refusing a link. */
  public static SecureDirectoryStream<Path> openChild(SecureDirectoryStream<Path> parent, String name)
      throws IOException {
    return parent.newDirectoryStream(Path.of(name), LinkOption.NOFOLLOW_LINKS);
  }

  /** Opens an absolute, link-free file path for reading, refusing a link on the way or at the end. */
  public static SeekableByteChannel openFile(Path file) throws IOException {
    Path abs = file.toAbsolutePath().normalize();
    Path parent = abs.getParent();
    if (parent == null || abs.getFileName() == null) {
      throw new IOException("not a file: " + abs);
    }
    try (SecureDirectoryStream<Path> dir = openDirectory(parent)) {
      return dir.newByteChannel(abs.getFileName(), Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS));
    }
  }

  /**
   * Opens files like {@link #openFile}, keeping the last directories it opened (so the files of one directory cost
   * one {@code openat} each, not one per path component). A kept directory is the one checked when it was opened:
   * a link swapped in for its path later does not change what it reads. Not thread-safe.
   */
  public static final class Opener implements AutoCloseable {
    private static final int KEEP = 32;
    private final Map<Path, SecureDirectoryStream<Path>> open = new LinkedHashMap<>(64, 0.75f, true) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<Path, SecureDirectoryStream<Path>> eldest) {
        if (size() > KEEP) {
          closeQuietly(eldest.getValue());
          return true;
        }
        return false;
      }
    };

    /** Opens an absolute, link-free file path for reading, refusing a link on the way or at the end. */
    public SeekableByteChannel openFile(Path file) throws IOException {
      Path abs = file.toAbsolutePath().normalize();
      Path parent = abs.getParent();
      if (parent == null || abs.getFileName() == null) {
        throw new IOException("not a file: " + abs);
      }
      return directory(parent).newByteChannel(abs.getFileName(),
          Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS));
    }

    private SecureDirectoryStream<Path> directory(Path dir) throws IOException {
      SecureDirectoryStream<Path> d = open.get(dir);
      if (d != null) {
        return d;
      }
      Path parent = dir.getParent();
      d = parent == null ? openDirectory(dir) : openChild(directory(parent), dir.getFileName().toString());
      open.put(dir, d);
      return d;
    }

    @Override
    public void close() {
      for (SecureDirectoryStream<Path> d : open.values()) {
        closeQuietly(d);
      }
      open.clear();
    }

    private static void closeQuietly(SecureDirectoryStream<Path> d) {
      try {
        d.close();
      } catch (IOException e) {
        // nothing to do
      }
    }
  }

  /** Whether {@code dir} opens as a directory along a path without links (see {@link #openDirectory}). */
  public static boolean isLinkFreeDirectory(Path dir) {
    try (SecureDirectoryStream<Path> ignored = openDirectory(dir)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
