package dev.byop.preview.ssh;

import dev.byop.preview.ssh.internal.CountingOutputStream;
import dev.byop.preview.ssh.internal.LayerNameCache;
import dev.byop.preview.ssh.internal.SaveArchiveFilter;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ships local images to a remote Docker Engine over SSH, streaming, sending only the layers the host lacks.
 *
 * <p>The remote engine is asked which layer diff ids it holds; a {@code docker save} archive of the local image is
 * rewritten on the fly without those layers' files and streamed into {@code docker load} on an exec channel. Nothing
 * touches a disk on either side. If the host rejects the partial archive, the full one is sent. A connection lost
 * mid-transfer is retried on a fresh connection; the result is only returned once the host reports the same image id.
 *
 * <pre>{@code
 * ImageShipper shipper = new ImageShipper(pool, new DockerCliLocalImages(Path.of("/usr/bin/docker"), null));
 * ShipResult r = shipper.ship(host, "registry.example/app:42");
 * }</pre>
 */
public final class ImageShipper {

    private static final Logger LOG = LoggerFactory.getLogger(ImageShipper.class);

    private final SshConnections pool;
    private final LocalImages local;
    private final List<String> remoteDocker;
    private final int attempts;
    private final Map<String, String> learned;

    public ImageShipper(SshConnections pool, LocalImages local) {
        this(pool, local, List.of("docker"), 3);
    }

    /**
     * @param remoteDocker the docker CLI invocation on the host, e.g. {@code ["docker"]} or {@code ["sudo", "docker"]}
     * @param attempts transfer attempts on lost connections (at least 1)
     */
    public ImageShipper(SshConnections pool, LocalImages local, List<String> remoteDocker, int attempts) {
        this(pool, local, remoteDocker, attempts, null);
    }

    /**
     * @param layerNameCache a file remembering which save-archive layer file holds which diff id (e.g. under byop's data
     *     directory), so that after a restart a host's existing layers are left out without first re-reading the image
     *     locally; null to keep it in memory
     */
    public ImageShipper(SshConnections pool, LocalImages local, List<String> remoteDocker, int attempts, java.nio.file.Path layerNameCache) {
        this.pool = Objects.requireNonNull(pool, "pool");
        this.local = Objects.requireNonNull(local, "local");
        this.remoteDocker = List.copyOf(remoteDocker);
        if (attempts < 1) {
            throw new IllegalArgumentException("attempts " + attempts + " must be at least 1");
        }
        this.attempts = attempts;
        this.learned = layerNameCache == null ? new LayerNameCache() : new LayerNameCache(layerNameCache);
    }

    private List<String> docker(String... args) {
        List<String> l = new ArrayList<>(remoteDocker);
        l.addAll(List.of(args));
        return l;
    }

    /** The image id the host has under {@code reference}, or null. */
    public String remoteImageId(SshHost host, String reference) {
        ExecResult r = pool.get(host).exec(docker("image", "inspect", "--format", "{{.Id}}", reference), StdinSource.NONE, null,
                pool.options().commandTimeout());
        return r.ok() ? r.stdout().strip() : null;
    }

    /** Whether the host has {@code img} under {@code reference}: {@link LocalImages.LocalImage#sameAs}. */
    boolean remoteHas(SshHost host, String reference, LocalImages.LocalImage img) {
        ExecResult r = pool.get(host).exec(docker("image", "inspect", "--format", "{{.Id}} {{.Created}}{{range .RootFS.Layers}} {{.}}{{end}}",
                reference), StdinSource.NONE, null, pool.options().commandTimeout());
        if (!r.ok()) {
            return false;
        }
        String[] p = r.stdout().strip().split("\\s+");
        return p.length >= 2 && img.sameAs(p[0], p[1], List.of(java.util.Arrays.copyOfRange(p, 2, p.length)));
    }

    /** Every layer diff id the host's engine holds (through the images it has). */
    public Set<String> remoteDiffIds(SshHost host) {
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
     * Reads the local save archive once, without sending anything, to learn which layer file holds which diff id;
     * {@link #ship} does this by itself when a host holds layers this shipper has not seen yet.
     */
    public void learn(String reference) throws IOException {
        try (InputStream in = local.save(reference)) {
            SaveArchiveFilter.learn(in, learned);
        }
    }

    /** Ships {@code reference} to {@code host} unless it already has that exact image id. */
    public ShipResult ship(SshHost host, String reference) {
        long t0 = System.nanoTime();
        LocalImages.LocalImage img;
        try {
            img = local.inspect(reference);
        } catch (IOException e) {
            throw new SshException("cannot inspect local image '" + reference + "': " + e.getMessage(), e);
        }
        AtomicLong bytes = new AtomicLong();
        SshException last = null;
        int attempt = 0;
        boolean forceFull = false;
        while (attempt < attempts) {
            attempt++;
            try {
                if (remoteHas(host, reference, img)) {
                    return new ShipResult(reference, img.id(), bytes.get(), img.diffIds().size(), img.diffIds().size(), false, true, attempt - 1,
                            java.time.Duration.ofNanos(System.nanoTime() - t0));
                }
                Set<String> held = forceFull ? Set.of() : remoteDiffIds(host);
                Set<String> relevant = new HashSet<>(img.diffIds());
                relevant.retainAll(held);
                if (!relevant.isEmpty() && !learned.values().containsAll(relevant)) {
                    // the host holds layers we have never hashed (shipped by someone else): learn their file names
                    // from a local-only pass so that they can be left out
                    learn(reference);
                }
                SaveArchiveFilter filter = new SaveArchiveFilter(relevant, learned);
                AtomicReference<SaveArchiveFilter.Stats> stats = new AtomicReference<>();
                AtomicReference<Exception> localFailure = new AtomicReference<>();
                SshConnection conn = pool.get(host);
                ExecResult r = conn.exec(docker("load"), out -> {
                    try (InputStream in = local.save(reference)) {
                        stats.set(filter.copy(in, new CountingOutputStream(out, bytes)));
                    } catch (IOException | RuntimeException e) {
                        if (conn.isAlive()) {
                            localFailure.set(e); // the local side broke, not the connection
                        }
                        throw e;
                    }
                }, null, pool.options().transferTimeout());
                if (localFailure.get() != null && stats.get() == null) {
                    // not a connection problem: no retry, and the pooled connection stays
                    throw new LocalImageException("reading the local image '" + reference + "' failed while shipping it to " + host.label() + ": "
                            + localFailure.get().getMessage() + " (the host's docker load saw a truncated archive and loaded nothing)",
                            localFailure.get());
                }
                SaveArchiveFilter.Stats st = stats.get();
                if (!r.ok() || st == null) {
                    if (st != null && st.skipped() > 0 && !forceFull) {
                        LOG.info("{} rejected the partial archive of {} ({}); sending it whole", host.label(), reference, r.stderrTail().strip());
                        forceFull = true;
                        attempt--; // a fallback is not a lost connection
                        continue;
                    }
                    throw new RemoteCommandException(host.label(), docker("load"), r.exitCode(), r.stderrTail());
                }
                if (!remoteHas(host, reference, img)) {
                    String now = remoteImageId(host, reference);
                    throw new SshException("after docker load, " + host.label() + " has " + (now == null ? "no image" : now) + " for '"
                            + reference + "', expected " + img.id());
                }
                return new ShipResult(reference, img.id(), bytes.get(), st.layers(), st.skipped(), st.skipped() == 0, false, attempt,
                        java.time.Duration.ofNanos(System.nanoTime() - t0));
            } catch (RemoteCommandException | HostKeyRejectedException | LocalImageException e) {
                throw e;
            } catch (SshException e) {
                last = e;
                LOG.warn("shipping {} to {} failed on attempt {}/{}: {}", reference, host.label(), attempt, attempts, e.getMessage());
                pool.evict(host);
            } catch (IOException e) {
                throw new SshException("reading the local image '" + reference + "' failed: " + e.getMessage(), e);
            }
        }
        throw new SshException("shipping '" + reference + "' to " + host.label() + " failed after " + attempts + " attempts", last);
    }

    /**
     * Registry mode: the host pulls {@code image} itself. The password reaches {@code docker login} on stdin only, in a
     * fresh {@code DOCKER_CONFIG} directory that is removed right after the pull, so no credential stays on the host.
     *
     * @return the image id the host now has
     */
    public String pull(SshHost host, String image, String registry, String user, dev.byop.core.Secret password) {
        if (!registry.matches("[A-Za-z0-9.-]+(:[0-9]{1,5})?") || user.isBlank() || user.chars().anyMatch(ch -> ch < ' ')) {
            throw new IllegalArgumentException("registry '" + registry + "' must be host[:port] and the user a single line");
        }
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
            ExecResult r = c.exec(pull, StdinSource.NONE, null, pool.options().transferTimeout());
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
