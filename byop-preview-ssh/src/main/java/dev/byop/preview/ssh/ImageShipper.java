package dev.byop.preview.ssh;

import dev.byop.core.ValidationException;
import dev.byop.preview.ssh.internal.CountingOutputStream;
import dev.byop.preview.ssh.internal.LayerNameCache;
import dev.byop.preview.ssh.internal.SaveArchiveFilter;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import dev.byop.core.CancelledException;
import dev.byop.core.internal.Redactor;
import dev.byop.core.spi.Cancellation;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ships local images to a remote Docker Engine over SSH, streaming, sending only the layers the host lacks.
 *
 * <p>The remote engine is asked which layer diff ids it holds; a {@code docker save} archive of the local image is
 * rewritten on the fly without those layers' files and streamed into {@code docker load} on an exec channel. Nothing
 * touches a disk on either side. If the host rejects the partial archive, the full one is sent. A connection lost
 * mid-transfer is retried on a fresh connection, backing off over a window ({@link Retry}); the result is only returned
 * once the host reports the same image id.
 *
 * <p>The host cannot tell that a link died (its sshd notices a dead client only much later), so the {@code docker load}
 * of a lost attempt would keep running there, holding the engine's import directory. Each load therefore records its
 * pid in a file of its own under the login's home; before the next attempt, and when a ship gives up, the loads of
 * failed attempts are killed by that pid and their files removed. What cannot be reached when a ship gives up is
 * cleaned at this shipper's next contact with the host.
 *
 * <pre>{@code
 * ImageShipper shipper = new ImageShipper(pool, new DockerCliLocalImages(Path.of("/usr/bin/docker"), null));
 * ShipResult r = shipper.ship(host, "registry.example/app:42");
 * }</pre>
 */
final class ImageShipper {

  private static final Logger LOG = LoggerFactory.getLogger(ImageShipper.class);

  private final SshConnections pool;
  private final LocalImages local;
  private final List<String> remoteDocker;
  private final Retry retry;
  private final Map<String, String> learned;
  private final Redactor redactor;
  /** Per host label: pid files of loads whose attempt failed and that may still run there. */
  private final Map<String, Set<String>> leftovers = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * How lost transfers are retried: at most {@code attempts}; between them a delay starting at {@code firstDelay} and
   * doubling, each drawn between half and all of its value (jitter, so hosts failing together do not retry in step);
   * no attempt starts later than {@code window} after the first failure. A link that drops for a while thus gets the whole
   * window to come back instead of all attempts being spent on fast connect errors.
   */
  public record Retry(int attempts, Duration firstDelay, Duration window) {
    public Retry {
      Objects.requireNonNull(firstDelay, "firstDelay");
      Objects.requireNonNull(window, "window");
      if (attempts < 1) {
        throw new ValidationException("ssh.attempts", attempts, "must be at least 1");
      }
      if (firstDelay.isNegative() || firstDelay.isZero() || window.isNegative()) {
        throw new ValidationException("ssh.retryDelay, ssh.retryWindow", firstDelay + ", " + window,
            "the delay must be positive and the window not negative");
      }
    }

    /** 8 attempts within 45 s, the first retry after about a second. */
    public static Retry defaults() {
      return new Retry(8, Duration.ofSeconds(1), Duration.ofSeconds(45));
    }

    /** {@code attempts} within the default window and delays. */
    public static Retry attempts(int attempts) {
      Retry d = defaults();
      return new Retry(attempts, d.firstDelay(), d.window());
    }

    /** The wait after the {@code failed}-th failed attempt. */
    Duration delay(int failed) {
      long base = firstDelay.toMillis() << Math.min(failed - 1, 20);
      // never more than a quarter of the window: several tries fit in it however long the first delay is
      long cap = Math.max(firstDelay.toMillis(), window.toMillis() / 4);
      long d = Math.min(base, cap);
      return Duration.ofMillis(d / 2 + java.util.concurrent.ThreadLocalRandom.current().nextLong(d / 2 + 1));
    }
  }

  ImageShipper(SshConnections pool, LocalImages local) {
    this(pool, local, List.of("docker"), Retry.defaults(), null, new Redactor());
  }

  /**
   * @param remoteDocker the docker CLI invocation on the host, e.g. {@code ["docker"]} or {@code ["sudo", "docker"]}
   * @param attempts transfer attempts on lost connections (at least 1), within the default retry window
   */
  ImageShipper(SshConnections pool, LocalImages local, List<String> remoteDocker, int attempts) {
    this(pool, local, remoteDocker, Retry.attempts(attempts), null, new Redactor());
  }

  /**
   * @param retry how transfers lost with their connection are retried
   * @param layerNameCache a file remembering which save-archive layer file holds which diff id (e.g. under byop's data
   *     directory), so that after a restart a host's existing layers are left out without first re-reading the image
   *     locally; null to keep it in memory
   * @param redactor masks the configured secrets in what is logged (sshj's messages may quote what a host answered)
   */
  ImageShipper(SshConnections pool, LocalImages local, List<String> remoteDocker, Retry retry,
      java.nio.file.@Nullable Path layerNameCache, Redactor redactor) {
    this.pool = Objects.requireNonNull(pool, "pool");
    this.local = Objects.requireNonNull(local, "local");
    this.remoteDocker = List.copyOf(remoteDocker);
    this.retry = Objects.requireNonNull(retry, "retry");
    this.learned = layerNameCache == null ? new LayerNameCache() : new LayerNameCache(layerNameCache);
    this.redactor = Objects.requireNonNull(redactor, "redactor");
  }

  /**
   * Kills the loads named by the pid files in its arguments and removes the files. The process must still look like a
   * load (its pid may have been reused); TERM first, KILL after 5 s.
   */
  private static final String KILL_LOADS = """
            for f in "$@"; do
              pid=$(cat -- "$f" 2>/dev/null)
              case "$pid" in
                ''|*[!0-9]*) ;;
                *) if ps -o args= -p "$pid" 2>/dev/null | grep -q load; then
                     kill -TERM "$pid" 2>/dev/null
                     i=0
                     while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i+1)); done
                     if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; fi
                   fi ;;
              esac
              rm -f -- "$f"
            done
            """;

  /** Kills what failed attempts left running on {@code host}; false when the host cannot be reached now. */
  boolean cleanUp(SshHost host) {
    Set<String> files = leftovers.get(host.label());
    if (files == null || files.isEmpty()) {
      return true;
    }
    List<String> batch = new ArrayList<>(files);
    List<String> argv = new ArrayList<>(List.of("sh", "-c", KILL_LOADS, "byop-kill-loads"));
    // sh -c takes the first word after the script as $0; "$@" is then exactly the pid files
    argv.addAll(batch);
    try {
      SshConnection c = pool.get(host);
      ExecResult r = c.exec(argv, StdinSource.NONE, null, pool.options().commandTimeout());
      if (!r.ok()) {
        LOG.warn("cleaning up lost loads on {} exited {}: {}", host.label(), r.exitCode(), redactor.redact(r.stderrTail().strip()));
        return false;
      }
      batch.forEach(files::remove);
      LOG.info("killed {} docker load(s) of lost transfers on {}", batch.size(), host.label());
      return true;
    } catch (SshException e) {
      LOG.warn("cannot clean up lost loads on {} now ({}); will at the next contact", host.label(),
          redactor.redact(String.valueOf(e.getMessage())));
      return false;
    }
  }

  private void leftOver(SshHost host, String pidFile) {
    leftovers.computeIfAbsent(host.label(), k -> java.util.concurrent.ConcurrentHashMap.newKeySet()).add(pidFile);
  }

  private List<String> docker(String... args) {
    List<String> l = new ArrayList<>(remoteDocker);
    l.addAll(List.of(args));
    return l;
  }

  /** The repository digests ({@code name@sha256:…}) the host's engine records for {@code reference}; empty when none. */
  List<String> remoteRepoDigests(SshHost host, String reference) {
    ExecResult r = pool.get(host).exec(docker("image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}",
        reference), StdinSource.NONE, null, pool.options().commandTimeout());
    if (!r.ok()) {
      return List.of();
    }
    return r.stdout().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
  }

  /** The image id the host has under {@code reference}, or null. */
  @Nullable String remoteImageId(SshHost host, String reference) {
    ExecResult r = pool.get(host).exec(docker("image", "inspect", "--format", "{{.Id}}", reference), StdinSource.NONE, null,
        pool.options().commandTimeout());
    return r.ok() ? r.stdout().strip() : null;
  }

  /** What a host holds under a reference, compared with the local image. */
  enum Presence {
    /** No image, or another one. */
    ABSENT,
    /**
     * This image, but its engine does not list it: a containerd-store engine that loaded an archive without a layer
     * blob it lacked (it held that layer under another blob digest, e.g. uncompressed where the archive names the gzip
     * blob) answers inspect and even runs the image, yet cannot list, save or push it.
     */
    INCOMPLETE,
    /** This image, listed. */
    COMPLETE
  }

  /** Whether the host has {@code img} under {@code reference} ({@link LocalImages.LocalImage#sameAs}), and complete. */
  Presence remotePresence(SshHost host, String reference, LocalImages.LocalImage img) {
    SshConnection c = pool.get(host);
    ExecResult r = c.exec(docker("image", "inspect", "--format", "{{.Id}} {{.Created}}{{range .RootFS.Layers}} {{.}}{{end}}",
        reference), StdinSource.NONE, null, pool.options().commandTimeout());
    if (!r.ok()) {
      return Presence.ABSENT;
    }
    String[] p = r.stdout().strip().split("\\s+");
    if (p.length < 2 || !img.sameAs(p[0], p[1], List.of(java.util.Arrays.copyOfRange(p, 2, p.length)))) {
      return Presence.ABSENT;
    }
    if (!containerdStore(host)) {
      // only a containerd store holds images it cannot list; a classic store's inspect is the answer (one round trip
      // less per check, two per shipped image)
      return Presence.COMPLETE;
    }
    ExecResult listed = c.exec(docker("image", "ls", "--quiet", "--no-trunc", reference), StdinSource.NONE, null,
        pool.options().commandTimeout());
    return listed.ok() && listed.stdout().strip().contains(p[0]) ? Presence.COMPLETE : Presence.INCOMPLETE;
  }

  /** Per host label: whether its engine uses the containerd image store (asked once). */
  private final Map<String, Boolean> containerdStores = new java.util.concurrent.ConcurrentHashMap<>();

  /** Whether the host's engine keeps images in the containerd store ({@code docker info}: the snapshotter driver). */
  boolean containerdStore(SshHost host) {
    Boolean known = containerdStores.get(host.label());
    if (known != null) {
      return known;
    }
    ExecResult r = pool.get(host).exec(docker("info", "--format", "{{json .DriverStatus}}"), StdinSource.NONE, null,
        pool.options().commandTimeout());
    boolean containerd = r.ok() && r.stdout().contains("io.containerd.snapshotter");
    if (r.ok()) {
      containerdStores.put(host.label(), containerd);
    }
    return containerd;
  }

  /** Every layer diff id the host's engine holds (through the images it has). */
  Set<String> remoteDiffIds(SshHost host) {
    SshConnection c = pool.get(host);
    String ids = c.run(docker("image", "ls", "--quiet", "--no-trunc")).stdout();
    Set<String> unique = new HashSet<>();
    for (String id : ids.split("\\s+")) {
      if (!id.isBlank()) {
        unique.add(id.strip());
      }
    }
    Set<String> diffIds = new HashSet<>();
    if (unique.isEmpty()) {
      return diffIds;
    }
    List<String> argv = docker("image", "inspect", "--format", "{{range .RootFS.Layers}}{{println .}}{{end}}");
    argv.addAll(unique);
    ExecResult r = c.exec(argv, StdinSource.NONE, null, pool.options().commandTimeout());
    // an image removed between ls and inspect makes inspect exit 1 but still print the others
    for (String d : r.stdout().split("\\s+")) {
      if (d.startsWith("sha256:")) {
        diffIds.add(d);
      }
    }
    return diffIds;
  }

  /**
   * Reads the local save archive once, without sending anything, to learn which layer file holds which diff id.
   * {@link #ship} needs this only for an OCI layout whose gzip blobs the host holds (their diff ids are named by the
   * manifest at the archive's end), and does it then by itself; a 20.10 archive's layer files are named while it
   * streams.
   */
  void learn(String reference) throws IOException {
    try (InputStream in = local.save(reference)) {
      SaveArchiveFilter.learn(in, learned);
    }
  }

  /**
   * Ships {@code reference} to {@code host} unless it already has that exact image id.
   *
   * @throws SshException when every attempt within the retry window failed; its message and cause carry the last failure
   */
  ShipResult ship(SshHost host, String reference) {
    return ship(host, reference, Cancellation.none());
  }

  /**
   * What the host holds, asked in one round trip ({@link #STATE}): its image under the reference, whether its engine
   * lists it, every diff id of its listed images, and, when not known yet, whether its store is containerd's.
   */
  record RemoteState(Presence presence, Set<String> diffIds) {}

  /**
   * One exec for everything a ship must know before sending: {@code $1} the reference, {@code $2} 1 to ask
   * {@code docker info} as well, the rest the docker CLI words. The independent docker calls run side by side (each
   * costs a CLI start on the host); their answers come back as lines tagged P (the reference's inspect), I (info),
   * L (listed image ids) and D (their diff ids). A constant script: values are positional arguments.
   */
  private static final String STATE = """
            ref=$1; info=$2; shift 2
            d=$(mktemp -d) || exit 70
            "$@" image inspect --format '{{.Id}} {{.Created}}{{range .RootFS.Layers}} {{.}}{{end}}' "$ref" >"$d/p" 2>/dev/null &
            if [ "$info" = 1 ]; then "$@" info --format '{{json .DriverStatus}}' >"$d/i" 2>"$d/ie" & fi
            if ids=$("$@" image ls --quiet --no-trunc 2>"$d/le"); then
              rc=0
              if [ -n "$ids" ]; then "$@" image inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' $ids >"$d/l" 2>/dev/null; fi
            else
              rc=$?
            fi
            wait
            sed 's/^/P /' "$d/p"
            [ -f "$d/i" ] && sed 's/^/I /' "$d/i"
            for i in $ids; do echo "L $i"; done
            [ -f "$d/l" ] && sed 's/^/D /' "$d/l"
            [ "$rc" = 0 ] || cat "$d/le" >&2
            rm -rf -- "$d"
            exit "$rc"
            """;

  /**
   * The load and the check of its result in one exec: {@code $1} the pid file, {@code $2} the reference, {@code $3} 1
   * to ask whether the engine lists it (containerd store), the rest the docker CLI words. The load runs in a shell
   * that writes its own pid to the file and then becomes the load (so a load orphaned by a lost link can be found and
   * killed by that pid); once it exited, the file is removed and, after a marker line, the reference is reported as
   * {@link #STATE} does (P, L). Exits with the load's status.
   */
  private static final String LOAD_AND_CHECK = """
            pf=$1; ref=$2; ls=$3; shift 3
            sh -c 'echo $$ >"$0" && exec "$@"' "$pf" "$@" load
            rc=$?
            rm -f -- "$pf"
            echo byop-after-load
            if [ "$rc" = 0 ]; then
              "$@" image inspect --format '{{.Id}} {{.Created}}{{range .RootFS.Layers}} {{.}}{{end}}' "$ref" 2>/dev/null | sed 's/^/P /'
              if [ "$ls" = 1 ]; then "$@" image ls --quiet --no-trunc "$ref" | sed 's/^/L /'; fi
            fi
            exit "$rc"
            """;

  /** The host's state for {@code reference} in one exec ({@link #STATE}). */
  RemoteState remoteState(SshHost host, String reference, LocalImages.LocalImage img) {
    SshConnection c = pool.get(host);
    Boolean containerd = containerdStores.get(host.label());
    List<String> argv = new ArrayList<>(List.of("sh", "-c", STATE, "byop-state", reference, containerd == null ? "1" : "0"));
    argv.addAll(remoteDocker);
    ExecResult r = c.exec(argv, StdinSource.NONE, null, pool.options().commandTimeout());
    if (!r.ok()) {
      throw new RemoteCommandException(host.label(), docker("image", "ls"), r.exitCode(), r.stderrTail());
    }
    String inspect = null;
    Set<String> listed = new HashSet<>();
    Set<String> diffIds = new HashSet<>();
    StringBuilder info = new StringBuilder();
    for (String l : r.stdout().split("\n")) {
      if (l.startsWith("P ")) {
        inspect = l.substring(2).strip();
      } else if (l.startsWith("I ")) {
        info.append(l, 2, l.length());
      } else if (l.startsWith("L ")) {
        listed.add(l.substring(2).strip());
      } else if (l.startsWith("D sha256:")) {
        diffIds.add(l.substring(2).strip());
      }
    }
    if (containerd == null && info.length() > 0) {
      containerd = info.toString().contains("io.containerd.snapshotter");
      containerdStores.put(host.label(), containerd);
    }
    return new RemoteState(presence(inspect, listed, img, Boolean.TRUE.equals(containerd)), diffIds);
  }

  /** Presence from an inspect line ({@code id created diffIds…}) and the ids the engine lists. */
  private static Presence presence(@Nullable String inspect, Set<String> listed, LocalImages.LocalImage img, boolean containerd) {
    if (inspect == null || inspect.isEmpty()) {
      return Presence.ABSENT;
    }
    String[] p = inspect.split("\\s+");
    if (p.length < 2 || !img.sameAs(p[0], p[1], List.of(java.util.Arrays.copyOfRange(p, 2, p.length)))) {
      return Presence.ABSENT;
    }
    // only a containerd store holds images it cannot list; a classic store's inspect is the answer
    return !containerd || listed.contains(p[0]) ? Presence.COMPLETE : Presence.INCOMPLETE;
  }

  /** Per host label: image ids it was last seen to hold complete, so that a ship of one of them does not save ahead. */
  private final Map<String, Set<String>> seenComplete = new java.util.concurrent.ConcurrentHashMap<>();

  private void seen(SshHost host, String imageId) {
    Set<String> ids = seenComplete.computeIfAbsent(host.label(), k -> java.util.concurrent.ConcurrentHashMap.newKeySet());
    if (ids.size() > 1024) {
      ids.clear(); // a hint only: bounded
    }
    ids.add(imageId);
  }

  private static final java.util.regex.Pattern LEGACY_FIRST = java.util.regex.Pattern.compile("[0-9a-f]{64}(/.*)?|[0-9a-f]{64}\\.json");

  /**
   * Whether a save archive is Docker 20.10's layout, from its first tar header (read ahead, then reset): its layer
   * files are named while streaming ({@link SaveArchiveFilter}); an OCI layout's gzip blobs only by its manifest at the
   * end, which an earlier pass must have learned.
   */
  private static boolean legacyArchive(java.io.BufferedInputStream in) throws IOException {
    in.mark(1024);
    byte[] h = in.readNBytes(512);
    in.reset();
    int n = 0;
    while (n < 100 && n < h.length && h[n] != 0) {
      n++;
    }
    return LEGACY_FIRST.matcher(new String(h, 0, n, java.nio.charset.StandardCharsets.UTF_8)).matches();
  }

  /** A local save started ahead, while the host is asked what it holds; closed unless a transfer takes it. */
  private static final class Ahead implements AutoCloseable {
    private java.util.concurrent.@Nullable CompletableFuture<InputStream> save;

    Ahead(java.util.concurrent.@Nullable CompletableFuture<InputStream> save) {
      this.save = save;
    }

    /** The stream started ahead, once; null when none (then the caller saves anew). */
    @Nullable InputStream take() throws IOException {
      java.util.concurrent.CompletableFuture<InputStream> f = save;
      save = null;
      if (f == null) {
        return null;
      }
      try {
        return f.join();
      } catch (java.util.concurrent.CompletionException e) {
        if (e.getCause() instanceof IOException io) {
          throw io;
        }
        throw e.getCause() instanceof RuntimeException re ? re : e;
      }
    }

    @Override
    public void close() {
      java.util.concurrent.CompletableFuture<InputStream> f = save;
      save = null;
      if (f != null) {
        f.whenComplete((in, err) -> {
          if (in != null) {
            try {
              in.close(); // aborts the local save
            } catch (IOException ignored) {
              // nothing more to release
            }
          }
        });
      }
    }
  }

  /**
   * As {@link #ship(SshHost, String)}; when {@code cancellation} fires, the transfer stops (the host's
   * {@code docker load} is sent TERM and its channel closed, what it left is cleaned up) and
   * {@link dev.byop.core.CancelledException} is raised.
   *
   * <p>Unless the host was last seen holding this image, the local save starts at once, beside the one exec that asks
   * the host what it holds ({@link #STATE}); the archive then streams through the filter into the host's
   * {@code docker load}, whose exec also removes its pid file and reports the result ({@link #LOAD_AND_CHECK}): two
   * execs per ship. A host that has the image costs one exec and no save.
   */
  ShipResult ship(SshHost host, String reference, Cancellation cancellation) {
    long t0 = System.nanoTime();
    LocalImages.LocalImage img;
    try {
      img = local.inspect(reference);
    } catch (IOException e) {
      throw new SshException("cannot inspect local image '" + reference + "': " + e.getMessage(), e);
    }
    Set<String> seenOn = seenComplete.getOrDefault(host.label(), Set.of());
    try (Ahead ahead = new Ahead(seenOn.contains(img.id()) ? null
        : java.util.concurrent.CompletableFuture.supplyAsync(() -> {
          try {
            return local.save(reference);
          } catch (IOException e) {
            throw new java.util.concurrent.CompletionException(e);
          }
        }, r -> {
          Thread t = new Thread(r, "byop-ship-save-ahead");
          t.setDaemon(true);
          t.start();
        }))) {
      return ship(host, reference, cancellation, img, ahead, t0);
    }
  }

  private ShipResult ship(SshHost host, String reference, Cancellation cancellation, LocalImages.LocalImage img, Ahead ahead,
      long t0) {
    AtomicLong bytes = new AtomicLong();
    @Nullable SshException last = null;
    int attempt = 0;
    boolean forceFull = false;
    @Nullable String fullBecause = null;
    boolean learnedForOci = false;
    long firstFailure = 0;
    while (true) {
      cancellation.throwIfCancelled();
      attempt++;
      @Nullable String pidFile = null;
      @Nullable InputStream archive = null;
      try {
        long tConnect = System.nanoTime();
        pool.get(host); // an unreachable host fails the attempt here, before the clean-up tries it too
        cleanUp(host);
        long tState = System.nanoTime();
        RemoteState state = remoteState(host, reference, img);
        Presence before = state.presence();
        if (before == Presence.COMPLETE) {
          seen(host, img.id());
          timeline(host, reference, "present", tConnect, tState, System.nanoTime(), 0, 0, 0);
          return new ShipResult(reference, img.id(), bytes.get(), img.diffIds().size(), img.diffIds().size(), 0, false, true,
              attempt - 1, Duration.ofNanos(System.nanoTime() - t0), "the host has the image (same id)");
        }
        if (before == Presence.INCOMPLETE && !forceFull) {
          // a thin archive would leave it incomplete again: only the whole one completes it
          forceFull = true;
          fullBecause = "the host held an incomplete copy of the image (not listed by its engine): sent whole";
        }
        Set<String> relevant = new HashSet<>(img.diffIds());
        relevant.retainAll(forceFull ? Set.of() : state.diffIds());
        long tSave = System.nanoTime();
        InputStream started = ahead.take();
        java.io.BufferedInputStream in = new java.io.BufferedInputStream(started != null ? started : local.save(reference), 64 * 1024);
        archive = in;
        if (!relevant.isEmpty() && !learned.values().containsAll(relevant) && !legacyArchive(in)) {
          // an OCI layout names its gzip blobs' diff ids only in its manifest at the end: learn them from this local
          // read (a 20.10 archive's layer files are named while streaming), then save again to send
          SaveArchiveFilter.learn(in, learned);
          in.close();
          in = new java.io.BufferedInputStream(local.save(reference), 64 * 1024);
          archive = in;
        }
        java.io.BufferedInputStream source = in;
        // a containerd store takes a 20.10 archive thin only as an OCI layout (SaveArchiveFilter)
        Boolean containerdKnown = containerdStores.get(host.label());
        boolean containerd = containerdKnown != null ? containerdKnown : containerdStore(host);
        boolean toOci = !forceFull && containerd;
        SaveArchiveFilter filter = new SaveArchiveFilter(relevant, learned, toOci, img.diffIds());
        AtomicReference<SaveArchiveFilter.Stats> stats = new AtomicReference<>();
        AtomicReference<Exception> localFailure = new AtomicReference<>();
        AtomicReference<Exception> unknownLayer = new AtomicReference<>();
        AtomicLong firstByte = new AtomicLong();
        AtomicLong copied = new AtomicLong();
        SshConnection conn = pool.get(host);
        // the login's home is where the session starts (as SFTP's "." is): a relative path needs no round trip
        pidFile = ".byop-ship-" + java.util.UUID.randomUUID() + ".pid";
        List<String> load = new ArrayList<>(List.of("sh", "-c", LOAD_AND_CHECK, "byop-load", pidFile, reference,
            containerd ? "1" : "0"));
        load.addAll(remoteDocker);
        long tLoad = System.nanoTime();
        ExecResult r = conn.exec(load, out -> {
          try (InputStream src = source) {
            src.mark(1);
            src.read();
            src.reset();
            firstByte.set(System.nanoTime());
            stats.set(filter.copy(src, new CountingOutputStream(out, bytes)));
            copied.set(System.nanoTime());
          } catch (SaveArchiveFilter.UnknownLayerException e) {
            unknownLayer.set(e); // nothing of that layer was written: learn and start again
            throw e;
          } catch (IOException | RuntimeException e) {
            if (conn.isAlive()) {
              localFailure.set(e); // the local side broke, not the connection
            }
            throw e;
          }
        }, null, null, pool.options().transferTimeout(), SshConnection.MAX_LINE, cancellation);
        archive = null; // closed by the transfer
        long tAfter = System.nanoTime();
        // the exec's status arrived: the load exited and its pid file was removed
        pidFile = null;
        if (unknownLayer.get() != null) {
          if (!learnedForOci) {
            learnedForOci = true;
            learn(reference);
          } else {
            forceFull = true;
            fullBecause = "the layers of the 20.10 archive could not all be named for the host's containerd store ("
                + unknownLayer.get().getMessage() + "): sent whole";
          }
          attempt--; // not a lost connection
          continue;
        }
        if (localFailure.get() != null && stats.get() == null) {
          // not a connection problem: no retry, and the pooled connection stays
          throw new LocalImageException("reading the local image '" + reference + "' failed while shipping it to " + host.label() + ": "
              + localFailure.get().getMessage() + " (the host's docker load saw a truncated archive and loaded nothing)",
              localFailure.get());
        }
        SaveArchiveFilter.Stats st = stats.get();
        if (!r.ok() || st == null) {
          if (st != null && st.skipped() > 0 && !forceFull) {
            String says = redactor.redact(r.stderrTail().strip());
            LOG.info("{} rejected the partial archive of {} ({}); sending it whole", host.label(), reference, says);
            forceFull = true;
            fullBecause = "the host refused the archive without the " + st.skipped() + " layer(s) it holds ("
                + (says.length() > 200 ? says.substring(says.length() - 200) : says) + "): sent whole";
            attempt--; // a fallback is not a lost connection
            continue;
          }
          throw new RemoteCommandException(host.label(), docker("load"), r.exitCode(), r.stderrTail());
        }
        String inspected = null;
        Set<String> listed = new HashSet<>();
        boolean afterMarker = false;
        for (String l : r.stdout().split("\n")) {
          if (l.equals("byop-after-load")) {
            afterMarker = true;
          } else if (!afterMarker) {
            continue; // docker load's own output
          } else if (l.startsWith("P ")) {
            inspected = l.substring(2).strip();
          } else if (l.startsWith("L ")) {
            listed.add(l.substring(2).strip());
          }
        }
        Presence afterLoad = presence(inspected, listed, img, containerd);
        timeline(host, reference, st.skipped() > 0 ? "thin" : "full", tConnect, tState, tSave, tLoad, firstByte.get(), copied.get(),
            tAfter);
        if (afterLoad == Presence.INCOMPLETE && st.skipped() > 0) {
          LOG.info("{} loaded the partial archive of {} but its engine does not list the image (incomplete in its store);"
              + " sending it whole", host.label(), reference);
          forceFull = true;
          fullBecause = "a load without the " + st.skipped() + " layer(s) the host holds left the image incomplete there"
              + " (held under other blob digests; its engine did not list it): sent whole";
          attempt--; // a repair is not a lost connection
          continue;
        }
        if (afterLoad != Presence.COMPLETE) {
          String now = remoteImageId(host, reference);
          throw new SshException("after docker load, " + host.label() + " has " + (now == null ? "no image" : now) + " for '"
              + reference + "', expected " + img.id() + (afterLoad == Presence.INCOMPLETE ? " (present but incomplete: its engine does not list it)" : ""));
        }
        seen(host, img.id());
        String reason = fullBecause != null ? fullBecause
            : st.skipped() == 0 ? "the host has none of its " + st.layers() + " layers"
            : "the host has " + st.skipped() + " of its " + st.layers() + " layers";
        return new ShipResult(reference, img.id(), bytes.get(), st.layers(), st.skipped(), st.bytesSkipped(),
            st.skipped() == 0, false, attempt, Duration.ofNanos(System.nanoTime() - t0), reason);
      } catch (CancelledException e) {
        giveUp(host, pidFile);
        throw e;
      } catch (RemoteCommandException | HostKeyRejectedException | LocalImageException e) {
        giveUp(host, pidFile);
        throw e;
      } catch (SshException e) {
        last = e;
        if (pidFile != null) {
          leftOver(host, pidFile); // its load may still run on the host: killed before the next attempt
        }
        pool.evict(host);
        if (firstFailure == 0) {
          firstFailure = System.nanoTime();
        }
        Duration wait = retry.delay(attempt);
        // the window counts from the first failure: a long transfer lost late still gets all of it
        Duration spent = Duration.ofNanos(System.nanoTime() - firstFailure);
        if (attempt >= retry.attempts() || spent.plus(wait).compareTo(retry.window()) > 0) {
          break;
        }
        LOG.warn("shipping {} to {} failed on attempt {}/{}: {}; retrying in {} ms", reference, host.label(), attempt,
            retry.attempts(), redactor.redact(String.valueOf(e.getMessage())), wait.toMillis());
        try {
          Thread.sleep(wait.toMillis());
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          giveUp(host, null);
          throw new SshException("interrupted while shipping '" + reference + "' to " + host.label() + " (last failure: " + e.getMessage() + ")", e);
        }
      } catch (IOException e) {
        giveUp(host, pidFile);
        throw new SshException("reading the local image '" + reference + "' failed: " + e.getMessage(), e);
      } finally {
        if (archive != null) {
          try {
            archive.close(); // not handed to a transfer: aborts the local save
          } catch (IOException ignored) {
            // nothing more to release
          }
        }
      }
    }
    giveUp(host, null);
    Duration spent = Duration.ofNanos(System.nanoTime() - firstFailure);
    throw new SshException("shipping '" + reference + "' to " + host.label() + " failed after " + attempt + " attempts, retried for "
        + spent.toMillis() / 1000.0 + " s (retry window " + retry.window().toMillis() / 1000.0 + " s): " + last.getMessage(), last);
  }

  /** The debug timeline of one attempt (nanoTime marks; 0 for a step not taken), read by the benches' breakdown. */
  private static void timeline(SshHost host, String reference, String path, long... marks) {
    if (!LOG.isDebugEnabled()) {
      return;
    }
    String[] names = {"connect+cleanup", "state", "save-ready", "load-to-first-byte", "stream", "load-after-eof+check"};
    StringBuilder b = new StringBuilder();
    for (int i = 0; i + 1 < marks.length && i < names.length; i++) {
      if (marks[i] != 0 && marks[i + 1] != 0) {
        b.append(' ').append(names[i]).append('=').append((marks[i + 1] - marks[i]) / 1_000_000).append("ms");
      }
    }
    LOG.debug("ship {} to {} ({}):{}", reference, host.label(), path, b);
  }

  /** A ship ends in failure: the loads it started must not outlive it (what is unreachable now goes at the next contact). */
  private void giveUp(SshHost host, @Nullable String pidFile) {
    if (pidFile != null) {
      leftOver(host, pidFile);
    }
    cleanUp(host);
  }

  /**
   * Registry mode: the host pulls {@code image} itself. The password reaches {@code docker login} on stdin only, in a
   * fresh {@code DOCKER_CONFIG} directory that is removed right after the pull, so no credential stays on the host.
   *
   * @return the image id the host now has
   */
  String pull(SshHost host, String image, String registry, String user, dev.byop.core.Secret password,
      Cancellation cancellation) {
    if (!registry.matches("[A-Za-z0-9.-]+(:[0-9]{1,5})?") || user.isBlank() || user.chars().anyMatch(ch -> ch < ' ')) {
      throw new ValidationException("registry", registry, "must be host[:port] and the user a single line");
    }
    cleanUp(host);
    SshConnection c = pool.get(host);
    String dir = c.run(List.of("mktemp", "-d")).stdout().strip();
    if (!dir.startsWith("/") || dir.contains("\n")) {
      throw new SshException("mktemp on " + host.label() + " returned '" + dir + "'");
    }
    try {
      List<String> login = new ArrayList<>(List.of("env", "DOCKER_CONFIG=" + dir));
      login.addAll(docker("login", "--username", user, "--password-stdin", registry));
      c.run(login, StdinSource.of(password.reveal().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      List<String> pull = new ArrayList<>(List.of("env", "DOCKER_CONFIG=" + dir));
      pull.addAll(docker("pull", image));
      ExecResult r = c.exec(pull, StdinSource.NONE, null, null, pool.options().transferTimeout(), SshConnection.MAX_LINE,
          cancellation);
      if (!r.ok()) {
        throw new RemoteCommandException(host.label(), pull, r.exitCode(), r.stderrTail());
      }
    } finally {
      c.exec(List.of("rm", "-rf", "--", dir), StdinSource.NONE, null, pool.options().commandTimeout());
    }
    String id = remoteImageId(host, image);
    if (id == null) {
      throw new SshException("after docker pull, " + host.label() + " has no image '" + image + "'");
    }
    return id;
  }

  /** The local image could not be read while shipping (distinct from a lost connection, so it is not retried). */
  static final class LocalImageException extends SshException {
    private static final long serialVersionUID = 1L;

    LocalImageException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
