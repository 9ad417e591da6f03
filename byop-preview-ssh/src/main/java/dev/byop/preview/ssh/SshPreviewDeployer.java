package dev.byop.preview.ssh;

import dev.byop.core.App;
import dev.byop.core.Component;
import dev.byop.core.ImageReference;
import dev.byop.core.Preview;
import dev.byop.core.PreviewException;
import dev.byop.core.internal.BoundedReads;
import dev.byop.core.internal.ImageNames;
import dev.byop.core.ByopLabels;
import dev.byop.preview.compose.ComposeFile;
import dev.byop.preview.compose.ComposeService;
import dev.byop.preview.compose.HttpProbe;
import dev.byop.preview.compose.PortMapping;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.PreviewDeployer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs previews on remote hosts over SSH: gets a host from the cloud provider, ships the images (only missing layers),
 * uploads a compose file over SFTP, starts it with the host's {@code docker compose} or {@code docker-compose}, routes the
 * preview's host name through the host's router and reports RUNNING only once the URL answers through that router.
 *
 * <pre>{@code
 * try (SshConnections pool = new SshConnections(SshOptions.defaults());
 *      SshPreviewDeployer d = new SshPreviewDeployer(cloud, pool, new ImageShipper(pool, localImages),
 *          new CaddyRemoteRouter("127.0.0.1", 2019, "byop", 80), SshDeployerOptions.of("preview.example.com"))) {
 *     Deployment dep = d.deploy(new DeployRequest(preview, app, images), JobContext.of(preview.id(), log));
 * }
 * }</pre>
 */
public final class SshPreviewDeployer implements PreviewDeployer {

  private static final Logger LOG = LoggerFactory.getLogger(SshPreviewDeployer.class);
  static final String LABEL_PREVIEW = ByopLabels.PREVIEW;
  static final String LABEL_COMPONENT = ByopLabels.COMPONENT;

  private final CloudProvider cloud;
  private final SshConnections pool;
  private final ImageShipper shipper;
  private final RemoteRouter router;
  private final SshDeployerOptions options;
  private final Map<String, List<String>> composeCommand = new ConcurrentHashMap<>();
  private final RegistryDelivery registry;
  private final List<AutoCloseable> owned;
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

  public SshPreviewDeployer(CloudProvider cloud, SshConnections pool, ImageShipper shipper, RemoteRouter router, SshDeployerOptions options) {
    this(cloud, pool, shipper, router, options, null);
  }

  /** @param registry when not null, hosts pull images from this registry instead of receiving them over SSH */
  public SshPreviewDeployer(CloudProvider cloud, SshConnections pool, ImageShipper shipper, RemoteRouter router, SshDeployerOptions options,
      RegistryDelivery registry) {
    this(cloud, pool, shipper, router, options, registry, List.of());
  }

  /** @param owned what was made for this deployer alone (pool, engine client, its own cloud provider): closed with it, in order */
  SshPreviewDeployer(CloudProvider cloud, SshConnections pool, ImageShipper shipper, RemoteRouter router, SshDeployerOptions options,
      RegistryDelivery registry, List<AutoCloseable> owned) {
    this.owned = List.copyOf(owned);
    this.registry = registry;
    this.cloud = Objects.requireNonNull(cloud, "cloud");
    this.pool = Objects.requireNonNull(pool, "pool");
    this.shipper = Objects.requireNonNull(shipper, "shipper");
    this.router = Objects.requireNonNull(router, "router");
    this.options = Objects.requireNonNull(options, "options");
  }

  static String checkId(String previewId) {
    if (!previewId.matches("[A-Za-z0-9][A-Za-z0-9_-]{0,62}")) {
      throw new PreviewException("preview id '" + previewId + "' must be 1-63 letters, digits, '_' or '-' (it names a directory and a compose project)");
    }
    return previewId;
  }

  static String project(String previewId) {
    return "byop-" + previewId.toLowerCase(Locale.ROOT);
  }

  static String routeId(String previewId) {
    return "byop-" + previewId;
  }

  /** The host name a preview is served under: its own first label under the remote domain. */
  String hostname(Preview p) {
    String label = p.hostname() != null ? p.hostname().split("\\.", 2)[0] : p.id().toLowerCase(Locale.ROOT);
    return label + "." + options.domain();
  }

  private String dir(SshConnection c, String previewId) {
    String base = options.baseDir().startsWith("/") ? options.baseDir() : c.home() + "/" + options.baseDir();
    return base + "/" + previewId;
  }

  private List<String> docker(String... args) {
    List<String> l = new ArrayList<>(options.remoteDocker());
    l.addAll(List.of(args));
    return l;
  }

  /** {@code docker compose} when the host has Compose v2, else {@code docker-compose}. */
  List<String> compose(SshConnection c) {
    return composeCommand.computeIfAbsent(c.host().label(), k -> {
      List<String> v2 = docker("compose", "version");
      if (c.exec(v2, StdinSource.NONE, null, pool.options().commandTimeout()).ok()) {
        return docker("compose");
      }
      if (c.exec(List.of("docker-compose", "version"), StdinSource.NONE, null, pool.options().commandTimeout()).ok()) {
        return List.of("docker-compose");
      }
      throw new PreviewException("host " + c.host().label() + " has neither 'docker compose' nor 'docker-compose'");
    });
  }

  private List<String> composeArgs(SshConnection c, String previewId, String... args) {
    List<String> l = new ArrayList<>(compose(c));
    l.addAll(List.of("-p", project(previewId), "-f", dir(c, previewId) + "/docker-compose.yml"));
    l.addAll(List.of(args));
    return l;
  }

  /**
   * What a host pulls in registry mode for a component's image: the name a build pushed it to
   * ({@link ImageNames#remote}, the same function the build orchestrator names its push target with), at the registry
   * address the hosts reach, with the image's tag.
   */
  static ImageReference pullReference(RegistryDelivery registry, String appId, String component, ImageReference image) {
    if (image.tag() == null) {
      throw new PreviewException("image " + image + " of component '" + component + "' has no tag to pull from registry " + registry.registry());
    }
    return ImageNames.remote(registry.registry(), registry.namespace(), appId, component, image.tag());
  }

  /** The name Docker stores the image under (a tagged image is saved, loaded and run by tag, without its digest). */
  static String dockerName(ImageReference ref) {
    return ref.tag() != null ? ref.withoutDigest().familiar() : ref.familiar();
  }

  /**
   * The compose file for an app (the shared typed model, which quotes every value and escapes {@code $}): one service
   * per component, labelled with the preview; only the entry component's port is published, on the host's loopback
   * with an engine-chosen port, for the router on the host to reach.
   */
  static String composeFile(String instance, String previewId, App app, Map<String, ImageReference> images) {
    ComposeFile file = ComposeFile.of(project(previewId));
    Component entry = app.entryComponent().orElse(null);
    for (Component comp : app.components()) {
      ImageReference img = images.get(comp.name());
      if (img == null) {
        throw new PreviewException("no image given for component '" + comp.name() + "' of preview " + previewId);
      }
      ComposeService svc = ComposeService.of(dockerName(img))
          .withEnvironment(comp.env())
          .withLabels(ByopLabels.forComponent(instance, app.id(), previewId, comp.name()));
      if (comp == entry) {
        svc = svc.plusPort(PortMapping.loopback(comp.port()));
      }
      file = file.withService(comp.name(), svc);
    }
    return file.toYaml();
  }

  @Override
  public Deployment deploy(DeployRequest request, JobContext context) {
    Preview preview = request.preview();
    String id = checkId(preview.id());
    Component entry = request.app().entryComponent()
        .filter(c -> c.port() > 0)
        .orElseThrow(() -> new PreviewException("app " + request.app().id() + " has no entry component with a port to route to"));
    Map<String, ImageReference> images = new LinkedHashMap<>(request.images());
    if (registry != null) {
      images.replaceAll((component, local) -> pullReference(registry, request.app().id(), component, local));
    }
    String composeYaml = composeFile(options.instance(), id, request.app(), images);
    context.cancellation().throwIfCancelled();
    CloudProvider.HostLease lease = cloud.acquire(id, options.acquireWait());
    SshHost host = SshHost.of(lease.host());
    context.log().line("host " + lease.host().id() + " (" + host.label() + ") reserved for preview " + id);
    for (Map.Entry<String, ImageReference> e : images.entrySet()) {
      context.cancellation().throwIfCancelled();
      if (registry != null) {
        String name = dockerName(e.getValue());
        String imageId = shipper.pull(host, name, registry.registry(), registry.user(), registry.password().resolve());
        context.log().line("pulled " + name + " on " + lease.host().id() + " (" + imageId + ")");
        continue;
      }
      ShipResult r = shipper.ship(host, dockerName(e.getValue()));
      context.log().line(r.alreadyPresent()
          ? "image " + r.image() + " already on " + lease.host().id()
          : String.format(Locale.ROOT, "shipped %s to %s: %d bytes, %d of %d layers already there%s", r.image(), lease.host().id(),
              r.bytesSent(), r.layersSkipped(), r.layers(), r.attempts() > 1 ? ", " + r.attempts() + " attempts" : ""));
    }
    SshConnection c = pool.get(host);
    for (Map.Entry<String, ImageReference> e : images.entrySet()) {
      checkImageLabels(c, dockerName(e.getValue()), request.app().id(), e.getKey());
    }
    String dir = dir(c, id);
    java.util.Set<String> previousImages = imagesOf(c.download(dir + "/docker-compose.yml"));
    privateDirectory(c, dir);
    c.write(dir + "/docker-compose.yml", composeYaml.getBytes(StandardCharsets.UTF_8), 0600);
    context.log().line("compose file uploaded to " + dir);
    context.cancellation().throwIfCancelled();
    ExecResult up = c.exec(composeArgs(c, id, "up", "-d", "--remove-orphans"), StdinSource.NONE, context.log()::line, context.log()::line,
        pool.options().transferTimeout());
    if (!up.ok()) {
      throw new PreviewException("compose up of preview " + id + " on " + lease.host().id() + " exited " + up.exitCode() + ": "
          + up.stderrTail().strip() + logsTail(c, id));
    }
    String port = c.run(composeArgs(c, id, "port", entry.name(), String.valueOf(entry.port()))).stdout().strip();
    if (!port.matches("127\\.0\\.0\\.1:\\d+")) {
      throw new PreviewException("compose reports no loopback port for " + entry.name() + ":" + entry.port() + " of preview " + id + ": '" + port + "'");
    }
    String hostname = hostname(preview);
    router.route(c, routeId(id), hostname, port);
    context.log().line("route " + hostname + " -> " + port + " on " + lease.host().id());
    String path = entry.healthPath() != null ? entry.healthPath() : "/";
    awaitAnswer(host.address(), hostname, path, entry.healthPath() != null, context, c, id);
    java.util.Set<String> now = imagesOf(composeYaml.getBytes(StandardCharsets.UTF_8));
    previousImages.removeAll(now);
    removeUnused(c, previousImages, lease.host().id(), context);
    String url = options.scheme() + "://" + hostname + (router.httpPort() == (options.scheme().equals("https") ? 443 : 80) ? "" : ":" + router.httpPort()) + "/";
    context.log().line("preview " + id + " answers at " + url);
    return new Deployment(lease.host().id(), host.address(), url);
  }

  /**
   * Creates the preview's directory and makes it and the base directory {@code 0700} before the compose file (which
   * holds env values) is written into it.
   */
  private void privateDirectory(SshConnection c, String dir) {
    String base = dir.substring(0, dir.lastIndexOf('/'));
    c.run(List.of("mkdir", "-p", "-m", "700", "--", dir));
    c.run(List.of("chmod", "700", "--", base, dir));
  }

  /** Refuses an image carrying router or byop labels, as the host's engine reports them. */
  private void checkImageLabels(SshConnection c, String image, String appId, String component) {
    ExecResult r = c.exec(docker("image", "inspect", "--format", "{{json .Config.Labels}}", image), StdinSource.NONE, null,
        pool.options().commandTimeout());
    if (!r.ok()) {
      throw new PreviewException("image " + image + " of component '" + component + "' is not on " + c.host().label() + ": "
          + r.stderrTail().strip());
    }
    ByopLabels.checkImageLabelsJson(image, appId, component, r.stdout().strip());
  }

  private void awaitAnswer(String address, String hostname, String path, boolean strict, JobContext context, SshConnection c, String id) {
    long deadline = System.nanoTime() + options.readyTimeout().toNanos();
    String last = "no answer yet";
    while (System.nanoTime() < deadline) {
      context.cancellation().throwIfCancelled();
      HttpProbe.Response r = probe(address, hostname, path);
      if (answered(r, id, strict)) {
        return;
      }
      last = r.error() != null ? r.error() : "HTTP " + r.status();
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new PreviewException("interrupted waiting for preview " + id);
      }
    }
    throw new PreviewException("preview " + id + " did not answer at http://" + hostname + ":" + router.httpPort() + path + " (via " + address
        + ") within " + options.readyTimeout() + ": " + last + logsTail(c, id));
  }

  /** One probe through the host's router: bounded in time and size (what a preview answers is hostile). */
  private HttpProbe.Response probe(String address, String hostname, String path) {
    return HttpProbe.get(java.net.URI.create("http://" + address + ":" + router.httpPort() + path), hostname, Duration.ofSeconds(3));
  }

  private boolean answered(HttpProbe.Response r, String id, boolean strict) {
    if (r.status() < 0) {
      return false;
    }
    Map.Entry<String, String> marker = router.marker(routeId(id));
    if (marker != null && !marker.getValue().equals(r.headers().get(marker.getKey().toLowerCase(Locale.ROOT)))) {
      return false; // the router's own answer, not the preview's
    }
    return strict ? r.status() / 100 == 2 || r.status() / 100 == 3 : r.status() < 500;
  }

  private String logsTail(SshConnection c, String id) {
    try {
      ExecResult r = c.exec(composeArgs(c, id, "logs", "--no-color", "--tail", "30"), StdinSource.NONE, null, pool.options().commandTimeout());
      return r.stdout().isBlank() ? "" : "\ncomponent logs:\n" + String.join("\n", bounded(r.stdout()));
    } catch (RuntimeException e) {
      return "";
    }
  }

  /** The image names a compose file runs (empty for none); parsed with the same YAML library the model writes with. */
  static java.util.Set<String> imagesOf(byte[] composeYaml) {
    java.util.Set<String> out = new java.util.LinkedHashSet<>();
    if (composeYaml == null) {
      return out;
    }
    try {
      com.fasterxml.jackson.databind.JsonNode root = new com.fasterxml.jackson.databind.ObjectMapper(
          new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(composeYaml);
      for (com.fasterxml.jackson.databind.JsonNode svc : root.path("services")) {
        String image = svc.path("image").asText("");
        if (!image.isEmpty()) {
          out.add(image);
        }
      }
    } catch (IOException e) {
      LOG.warn("previous compose file is not YAML; its images are left alone: {}", e.getMessage());
    }
    return out;
  }

  /** Removes each image no container on the host (of any preview) uses any more. */
  private void removeUnused(SshConnection c, java.util.Set<String> images, String hostId, JobContext context) {
    for (String image : images) {
      String users = c.run(docker("ps", "-a", "-q", "--filter", "ancestor=" + image)).stdout().strip();
      if (users.isEmpty()) {
        ExecResult rm = c.exec(docker("image", "rm", image), StdinSource.NONE, null, pool.options().commandTimeout());
        context.log().line(rm.ok() ? "removed image " + image + " from " + hostId : "image " + image + " kept: " + rm.stderrTail().strip());
      } else {
        context.log().line("image " + image + " still used on " + hostId + "; kept");
      }
    }
  }

  private CloudProvider.RemoteHost hostOf(String previewId) {
    for (CloudProvider.HostStatus s : cloud.hosts()) {
      if (s.previews().contains(previewId)) {
        return s.host();
      }
    }
    return null;
  }

  /** The host holding the preview's slot, else the host the preview was recorded RUNNING on, if the provider knows it. */
  private CloudProvider.RemoteHost hostOf(Preview preview) {
    CloudProvider.RemoteHost rh = hostOf(preview.id());
    if (rh != null || preview.host() == null) {
      return rh;
    }
    for (CloudProvider.HostStatus s : cloud.hosts()) {
      if (s.host().id().equals(preview.host())) {
        return s.host();
      }
    }
    return null;
  }

  @Override
  public void tearDown(Preview preview, JobContext context) {
    String id = checkId(preview.id());
    CloudProvider.RemoteHost rh = hostOf(preview);
    if (rh == null) {
      context.log().line("preview " + id + " holds no host; nothing to stop");
      cloud.release(id);
      return;
    }
    SshConnection c = pool.get(SshHost.of(rh));
    String dir = dir(c, id);
    if (c.exec(List.of("test", "-f", dir + "/docker-compose.yml"), StdinSource.NONE, null, pool.options().commandTimeout()).ok()) {
      ExecResult down = c.exec(composeArgs(c, id, "down", "--remove-orphans", "--volumes", "--timeout",
          String.valueOf(Math.max(0, options.stopTimeout().toSeconds()))), StdinSource.NONE, context.log()::line,
          context.log()::line, pool.options().transferTimeout());
      if (!down.ok()) {
        throw new PreviewException("compose down of preview " + id + " on " + rh.id() + " exited " + down.exitCode() + ": " + down.stderrTail().strip());
      }
    } else {
      // no compose file (a deploy that failed early): remove whatever carries the preview's label
      String ids = c.run(docker("ps", "-a", "-q", "--filter", "label=" + LABEL_PREVIEW + "=" + id)).stdout().strip();
      if (!ids.isEmpty()) {
        List<String> rm = docker("rm", "-f");
        rm.addAll(List.of(ids.split("\\s+")));
        c.run(rm);
      }
    }
    router.remove(c, routeId(id));
    java.util.Set<String> images = imagesOf(c.download(dir + "/docker-compose.yml"));
    for (String image : preview.images().values()) {
      try {
        images.add(dockerName(ImageReference.parse(image)));
      } catch (RuntimeException notAReference) {
        images.add(image);
      }
    }
    // (read before the directory goes) the images of the running compose file plus those the store recorded
    removeUnused(c, images, rh.id(), context);
    c.run(List.of("rm", "-rf", "--", dir));
    cloud.release(id);
    context.log().line("preview " + id + " torn down on " + rh.id() + "; host released");
  }

  /**
   * On every host the cloud provider knows, removes previews carrying this installation's instance label that are not
   * in {@code knownPreviewIds}: containers, networks, route and directory.
   */
  @Override
  public List<String> sweep(java.util.Set<String> knownPreviewIds, JobContext context) {
    List<String> removed = new ArrayList<>();
    for (CloudProvider.HostStatus hs : cloud.hosts()) {
      SshConnection c = pool.get(SshHost.of(hs.host()));
      String out = c.run(docker("ps", "-a", "--filter", "label=" + ByopLabels.INSTANCE + "=" + options.instance(), "--filter",
          "label=" + LABEL_PREVIEW, "--format", "{{.Label \"" + LABEL_PREVIEW + "\"}}")).stdout();
      java.util.Set<String> orphans = new java.util.TreeSet<>();
      for (String id : out.split("\\s+")) {
        if (!id.isBlank() && !knownPreviewIds.contains(id) && !hs.previews().contains(id)) {
          orphans.add(id);
        }
      }
      for (String id : orphans) {
        String ids = c.run(docker("ps", "-a", "-q", "--filter", "label=" + LABEL_PREVIEW + "=" + id, "--filter",
            "label=" + ByopLabels.INSTANCE + "=" + options.instance())).stdout().strip();
        if (!ids.isEmpty()) {
          List<String> rm = docker("rm", "-f");
          rm.addAll(List.of(ids.split("\\s+")));
          c.run(rm);
        }
        String nets = c.run(docker("network", "ls", "-q", "--filter", "label=com.docker.compose.project=" + project(id))).stdout().strip();
        if (!nets.isEmpty()) {
          List<String> rmn = docker("network", "rm");
          rmn.addAll(List.of(nets.split("\\s+")));
          c.exec(rmn, StdinSource.NONE, null, pool.options().commandTimeout());
        }
        router.remove(c, routeId(id));
        if (id.matches("[A-Za-z0-9][A-Za-z0-9_-]{0,62}")) {
          c.run(List.of("rm", "-rf", "--", dir(c, id)));
        }
        removed.add(hs.host().id() + ": preview " + id);
        context.log().line("swept orphaned preview " + id + " on " + hs.host().id());
      }
    }
    return removed;
  }

  @Override
  public Health status(Preview preview) {
    String id = checkId(preview.id());
    CloudProvider.RemoteHost rh = hostOf(id);
    if (rh == null) {
      return new Health(false, Map.of());
    }
    SshConnection c = pool.get(SshHost.of(rh));
    Map<String, String> comps = new LinkedHashMap<>();
    ExecResult ps = c.exec(docker("ps", "-a", "--filter", "label=" + LABEL_PREVIEW + "=" + id, "--format",
        "{{.Label \"" + LABEL_COMPONENT + "\"}} {{.State}}"), StdinSource.NONE, null, pool.options().commandTimeout());
    for (String line : ps.stdout().split("\n")) {
      String[] f = line.strip().split(" ", 2);
      if (f.length == 2) {
        comps.put(f[0], f[1]);
      }
    }
    boolean answers = answered(probe(rh.address(), hostname(preview), "/"), id, false);
    return new Health(answers, comps);
  }

  @Override
  public List<String> logs(Preview preview, int tail) {
    String id = checkId(preview.id());
    CloudProvider.RemoteHost rh = hostOf(id);
    if (rh == null) {
      return List.of();
    }
    SshConnection c = pool.get(SshHost.of(rh));
    ExecResult r = c.exec(composeArgs(c, id, "logs", "--no-color", "--tail", String.valueOf(Math.max(1, Math.min(tail, BoundedReads.MAX_LINES / 2)))), StdinSource.NONE, null,
        pool.options().commandTimeout());
    return bounded(r.stdout());
  }

  /** At most this many bytes of component logs are returned (each line is cut too). */
  static final int MAX_LOG_BYTES = 256 * 1024;

  /** {@code docker logs} output as lines, each cut with a visible marker and all of them bounded in total. */
  static List<String> bounded(String output) {
    List<String> out = new ArrayList<>();
    long total = 0;
    try {
      List<String> lines = new ArrayList<>();
      BoundedReads.lines(new java.io.ByteArrayInputStream(output.getBytes(StandardCharsets.UTF_8)), BoundedReads.MAX_LINE_BYTES, lines::add);
      for (String l : lines) {
        total += l.length();
        if (total > MAX_LOG_BYTES || out.size() >= BoundedReads.MAX_LINES) {
          out.add("…[component logs cut at " + MAX_LOG_BYTES + " bytes]");
          break;
        }
        out.add(l);
      }
    } catch (IOException impossible) {
      throw new IllegalStateException(impossible);
    }
    return out;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    Exception first = null;
    for (AutoCloseable c : owned) {
      try {
        c.close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first instanceof RuntimeException r) {
      throw r;
    }
    if (first != null) {
      throw new SshException("closing the ssh preview deployer failed: " + first.getMessage(), first);
    }
  }
}
