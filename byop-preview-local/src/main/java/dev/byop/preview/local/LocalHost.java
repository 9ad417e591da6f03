package dev.byop.preview.local;

import dev.byop.core.CancelledException;
import dev.byop.core.PreviewException;
import dev.byop.core.ValidationException;
import dev.byop.core.internal.BoundedReads;
import dev.byop.preview.compose.CommandResult;
import dev.byop.preview.compose.PreviewHost;
import dev.byop.core.spi.Cancellation;
import dev.byop.core.spi.LogSink;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * This machine as a {@link PreviewHost}: processes started from argument lists (never a shell) with the configured
 * environment ({@code DOCKER_HOST}, {@code DOCKER_CONFIG}), output lines cut at
 * {@link BoundedReads#MAX_LINE_BYTES} with a visible marker, a timeout or a cancellation ending the process and
 * every process it started; files under the work directory created with their mode (never wider, not even for a
 * moment) in {@code 0700} directories; sockets whose connect and reads end at one deadline.
 */
public final class LocalHost implements PreviewHost {
  /** The host recorded on local previews, as the seed does. */
  public static final String ID = "byop.local";
  /** The address local previews are reached at. */
  public static final String ADDRESS = "127.0.0.1";

  private final List<String> docker;
  private final Path workDir;
  private final Map<String, String> environment;
  private final @Nullable Path directory;
  private volatile dev.byop.docker.@Nullable DockerClient engine;

  /**
   * @param docker the docker CLI, e.g. {@code [docker]}
   * @param workDir where compose projects live (absolute once resolved)
   * @param environment added to every command's environment, e.g. {@code DOCKER_HOST}
   */
  public LocalHost(List<String> docker, Path workDir, Map<String, String> environment) {
    this(docker, workDir, environment, null);
  }

  private LocalHost(List<String> docker, Path workDir, Map<String, String> environment, @Nullable Path directory) {
    this.docker = List.copyOf(docker);
    if (this.docker.isEmpty()) throw new ValidationException("preview.docker", "[]", "needs a command");
    this.workDir = workDir.toAbsolutePath().normalize();
    this.environment = Map.copyOf(environment);
    this.directory = directory;
  }

  /** The same host, its commands run with {@code more} added to the environment (e.g. a temporary DOCKER_CONFIG). */
  public LocalHost withEnvironment(Map<String, String> more) {
    Map<String, String> env = new LinkedHashMap<>(environment);
    env.putAll(more);
    return new LocalHost(docker, workDir, env, directory);
  }

  /** The same host, its commands run in {@code dir}. */
  public LocalHost inDirectory(Path dir) {
    return new LocalHost(docker, workDir, environment, dir);
  }

  @Override
  public String id() {
    return ID;
  }

  @Override
  public String address() {
    return ADDRESS;
  }

  @Override
  public List<String> docker() {
    return docker;
  }

  /**
   * The engine the docker command reaches when it is a plain CLI (one word): {@code DOCKER_HOST} of the commands'
   * environment, else what the CLI would discover (context, default socket). A docker command with options of its
   * own (e.g. {@code --context}) has none: its engine is the CLI's to find.
   */
  @Override
  public Optional<dev.byop.docker.DockerClient> engine() {
    if (docker.size() != 1) return Optional.empty();
    dev.byop.docker.DockerClient e = engine;
    if (e == null) {
      String host = environment.get("DOCKER_HOST");
      Map<String, String> env = new LinkedHashMap<>(System.getenv());
      env.putAll(environment);
      e = dev.byop.docker.DockerClient.connect(host != null && !host.isBlank()
          ? dev.byop.docker.DockerEndpoint.fromEnvironment(env) : dev.byop.docker.DockerEndpoint.fromEnvironment());
      engine = e;
    }
    return Optional.of(e);
  }

  @Override
  public String workDir() {
    return workDir.toString();
  }

  @Override
  public CommandResult run(List<String> argv, LogSink output, Duration timeout, Cancellation cancellation) {
    cancellation.throwIfCancelled();
    if (argv.isEmpty()) throw new ValidationException("command", "[]", "needs a program to run");
    ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
    pb.environment().putAll(environment);
    if (directory != null) pb.directory(directory.toFile());
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new PreviewException("cannot run " + argv.get(0) + ": " + e.getMessage(), e);
    }
    // bounded: a line is cut at MAX_LINE_BYTES with a visible marker, and the result keeps at most MAX_LINES
    BoundedReads.LineList lines = new BoundedReads.LineList(BoundedReads.MAX_LINES);
    Thread reader = new Thread(() -> {
      try (InputStream in = p.getInputStream()) {
        BoundedReads.lines(in, BoundedReads.MAX_LINE_BYTES, line -> {
          lines.add(line);
          output.line(line);
        });
      } catch (IOException e) {
        // the process was stopped; what was read is kept
      }
    }, "byop-proc-" + argv.get(0));
    reader.setDaemon(true);
    reader.start();
    try (AutoCloseable onCancel = cancellation.onCancel(() -> kill(p))) {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        kill(p);
        throw new PreviewException(String.join(" ", argv) + " did not finish within " + timeout);
      }
      reader.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      kill(p);
      Thread.currentThread().interrupt();
      throw new CancelledException("interrupted while running " + argv.get(0));
    } catch (PreviewException e) {
      throw e;
    } catch (Exception e) {
      throw new PreviewException("running " + argv.get(0) + " failed: " + e.getMessage(), e);
    }
    if (cancellation.isCancelled()) throw new CancelledException(cancellation.reason());
    return new CommandResult(p.exitValue(), lines.snapshot());
  }

  /** Ends the process and every process it started (compose starts the docker CLI, which may start plugins). */
  private static void kill(Process p) {
    // the children first: once the parent is gone they are re-parented and no longer its descendants
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    try {
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The path, when it lies below the work directory (no {@code ..} out of it, no link on the way). */
  private Path inWorkDir(String path) {
    Path p = workDir.resolve(path).normalize();
    if (!p.startsWith(workDir) || p.equals(workDir)) {
      throw new ValidationException("path", path, "must lie below the preview work directory " + workDir);
    }
    return p;
  }

  @Override
  public void write(String path, byte[] content, int mode) {
    Path file = inWorkDir(path);
    Set<PosixFilePermission> perms = permissions(mode);
    try {
      privateDirectory(workDir);
      for (Path d = workDir; !d.equals(file.getParent()); ) {
        d = d.resolve(file.getParent().getName(d.getNameCount()));
        privateDirectory(d);
      }
      // a new file is created with the mode (the umask can only narrow it); an existing one gets it before any byte
      Set<OpenOption> open = Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING, LinkOption.NOFOLLOW_LINKS);
      try (SeekableByteChannel ch = Files.newByteChannel(file, open, PosixFilePermissions.asFileAttribute(perms))) {
        Files.setPosixFilePermissions(file, perms);
        ByteBuffer b = ByteBuffer.wrap(content);
        while (b.hasRemaining()) ch.write(b);
      }
    } catch (UnsupportedOperationException e) {
      throw new PreviewException("cannot write " + file + " with mode " + Integer.toOctalString(mode)
          + ": the file system has no POSIX permissions", e);
    } catch (IOException e) {
      throw new PreviewException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** Creates {@code dir} when missing and makes it {@code 0700}; a link in its place is refused. */
  private static void privateDirectory(Path dir) throws IOException {
    Set<PosixFilePermission> owner = PosixFilePermissions.fromString("rwx------");
    try {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(owner));
    } catch (FileAlreadyExistsException e) {
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException(dir + " exists and is not a directory");
      }
    } catch (NoSuchFileException e) {
      Files.createDirectories(dir.getParent());
      privateDirectory(dir);
      return;
    }
    Files.setPosixFilePermissions(dir, owner);
  }

  private static Set<PosixFilePermission> permissions(int mode) {
    if ((mode & ~0777) != 0) throw new ValidationException("mode", Integer.toOctalString(mode), "must be 0 to 0777");
    StringBuilder s = new StringBuilder(9);
    String rwx = "rwx";
    for (int shift = 6; shift >= 0; shift -= 3) {
      for (int bit = 0; bit < 3; bit++) s.append((mode >> (shift + 2 - bit) & 1) == 1 ? rwx.charAt(bit) : '-');
    }
    return PosixFilePermissions.fromString(s.toString());
  }

  @Override
  public Optional<byte[]> read(String path, int maxBytes) {
    Path file = inWorkDir(path);
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) return Optional.empty();
    try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
      byte[] b = in.readNBytes(maxBytes + 1);
      if (b.length > maxBytes) throw new PreviewException(file + " is larger than " + maxBytes + " bytes");
      return Optional.of(b);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new PreviewException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void delete(String path) {
    Path dir = inWorkDir(path);
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
    // Files.walk follows no links: a link inside is removed as a link, never what it points to
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
    } catch (IOException e) {
      throw new PreviewException("cannot delete " + dir + ": " + e.getMessage(), e);
    }
  }

  @Override
  public Connection connect(String host, int port, Duration timeout) {
    return Connection.tcp(host, port, timeout);
  }

  @Override
  public String toString() {
    return ID + " (" + String.join(" ", docker) + ", " + workDir + ")";
  }
}
