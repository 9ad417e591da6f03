package dev.byop.preview.ssh;

import dev.byop.core.ByopListener;
import dev.byop.core.ImageDelivery;
import dev.byop.core.ImageReference;
import dev.byop.core.Preview;
import dev.byop.core.PreviewException;
import dev.byop.core.internal.ImageNames;
import dev.byop.core.internal.Redactor;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.JobContext;
import dev.byop.core.spi.PreviewDeployer.DeployRequest;
import dev.byop.preview.compose.Placement;
import dev.byop.preview.compose.PreviewHost;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * Places previews on the hosts of a {@link CloudProvider}, reached over SSH: one slot is leased per preview (waiting
 * {@link SshDeployerOptions#acquireWait()} for one), and the preview's images are delivered to that host, either
 * shipped layer by layer from the local engine ({@link ImageShipper}: only the layers the host lacks travel) or, with
 * a {@link RegistryDelivery}, pulled by the host from the registry the build pushed them to.
 *
 * <p>In registry mode the host pulls exactly what the build pushed: an image recorded as a registry reference
 * ({@code <registry>/<namespace>/<app>/<component>:<tag>}, pushed by the build) is pulled under the same repository
 * and tag at the address the hosts reach the registry at, and when the build recorded its digest the host's copy must
 * carry it; a local name is mapped to the name builds push to with {@link ImageNames#remote}.
 */
final class SshPlacement implements Placement {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SshPlacement.class);
  private final CloudProvider cloud;
  private final SshConnections pool;
  private final ImageShipper shipper;
  private final SshDeployerOptions options;
  private final @Nullable RegistryDelivery registry;
  private final Redactor redactor;
  private final ByopListener events;
  private final List<AutoCloseable> owned;
  private final Map<CloudProvider.RemoteHost, SshPreviewHost> hosts = new ConcurrentHashMap<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * @param registry when not null, hosts pull images from this registry instead of receiving them over SSH
   * @param redactor masks the configured secrets in what is logged
   * @param events told how each image reached its host ({@link ByopListener#imageDelivered})
   * @param owned what was made for this placement alone (pool, engine client, its own cloud provider): closed with
   *     it, in order
   */
  SshPlacement(CloudProvider cloud, SshConnections pool, ImageShipper shipper, SshDeployerOptions options,
      @Nullable RegistryDelivery registry, Redactor redactor, ByopListener events, List<AutoCloseable> owned) {
    this.events = Objects.requireNonNull(events, "events");
    this.cloud = Objects.requireNonNull(cloud, "cloud");
    this.pool = Objects.requireNonNull(pool, "pool");
    this.shipper = Objects.requireNonNull(shipper, "shipper");
    this.options = Objects.requireNonNull(options, "options");
    this.registry = registry;
    this.redactor = redactor;
    this.owned = List.copyOf(owned);
  }

  /** The preview host for a cloud provider's host (one per host, so its work directory is resolved once). */
  SshPreviewHost host(CloudProvider.RemoteHost remote) {
    return hosts.computeIfAbsent(remote, r -> new SshPreviewHost(r, pool, options.baseDir(), options.remoteDocker()));
  }

  @Override
  public Placed place(DeployRequest request, JobContext context) {
    String id = request.preview().id();
    String appId = request.app().id();
    // what the hosts will run, checked before a slot is taken
    Map<String, ImageReference> names = new LinkedHashMap<>();
    request.images().forEach((component, image) ->
        names.put(component, registry != null ? pullReference(registry, appId, component, image) : image));
    context.cancellation().throwIfCancelled();
    CloudProvider.HostLease lease = cloud.acquire(id, options.acquireWait());
    SshPreviewHost host = host(lease.host());
    context.log().line("host " + host.id() + " (" + host.ssh().label() + ") reserved for preview " + id);
    Map<String, String> images = new LinkedHashMap<>();
    for (Map.Entry<String, ImageReference> e : names.entrySet()) {
      context.cancellation().throwIfCancelled();
      String name = dockerName(e.getValue());
      if (registry != null) {
        pull(host, e.getKey(), e.getValue(), registry, context);
      } else {
        ShipResult r = shipper.ship(host.ssh(), name, context.cancellation());
        context.log().line(r.alreadyPresent()
            ? "image " + r.image() + " already on " + host.id() + " (path present: " + r.reason() + ")"
            : String.format(Locale.ROOT, "shipped %s to %s (path %s: %s): %d bytes sent, %d bytes of %d of %d layers "
                + "not sent%s", r.image(), host.id(), r.path(), r.reason(), r.bytesSent(), r.bytesSkipped(),
                r.layersSkipped(), r.layers(), r.attempts() > 1 ? ", " + r.attempts() + " attempts" : ""));
        report(new ImageDelivery(id, host.id(), name, r.path(), r.bytesSent(), r.bytesSkipped()));
      }
      images.put(e.getKey(), name);
    }
    return new Placed(host, images);
  }

  private void pull(SshPreviewHost host, String component, ImageReference ref, RegistryDelivery registry,
      JobContext context) {
    String name = dockerName(ref);
    String imageId = shipper.pull(host.ssh(), name, registry.registry(), registry.user(), registry.password().resolve(),
        context.cancellation());
    String digest = ref.digest();
    if (digest != null) {
      String pinned = ref.withoutDigest().name() + "@" + digest;
      List<String> held = shipper.remoteRepoDigests(host.ssh(), name);
      if (!held.contains(pinned)) {
        throw new PreviewException("the image of component '" + component + "' pulled on " + host.id() + " is not the "
            + "one the build pushed: expected " + pinned + ", the host has " + held);
      }
    }
    context.log().line("pulled " + name + " on " + host.id() + " (path registry: the hosts pull what the build pushed; "
        + imageId + (digest != null ? ", " + digest : "") + ")");
    report(new ImageDelivery(context.ownerId(), host.id(), name, "registry", 0, 0));
  }

  /** Tells the listeners; a listener's failure never fails the deployment. */
  private void report(ImageDelivery d) {
    try {
      events.imageDelivered(d);
    } catch (RuntimeException e) {
      LOG.warn("a listener failed on an image delivery to {}", d.host(), redactor.safe(e));
    }
  }

  /**
   * What a host pulls in registry mode for a component's image: the name a build pushed it to, at the registry
   * address the hosts reach. A registry reference (the build pushed it) keeps its repository, tag and digest, which
   * must be where builds of that app and component push ({@link ImageNames#remote}); a local name is mapped there.
   */
  static ImageReference pullReference(RegistryDelivery registry, String appId, String component, ImageReference image) {
    String tag = image.tag();
    if (tag == null) {
      throw new PreviewException("image " + image + " of component '" + component + "' has no tag to pull from registry "
          + registry.registry());
    }
    ImageReference target = ImageNames.remote(registry.registry(), registry.namespace(), appId, component, tag);
    if (image.registry().equals(ImageReference.DOCKER_HUB)) {
      return target;
    }
    if (!image.repository().equals(target.repository())) {
      throw new PreviewException("image " + image + " of component '" + component + "' is not under " + registry.namespace()
          + "/" + appId + "/" + component + ", where builds of that component push; refusing to pull it on preview hosts");
    }
    String digest = image.digest();
    return digest == null ? target : target.withDigest(digest);
  }

  /** The name Docker stores the image under (a tagged image is saved, loaded, pulled and run by tag). */
  static String dockerName(ImageReference ref) {
    return ref.tag() != null ? ref.withoutDigest().familiar() : ref.familiar();
  }

  @Override
  public Optional<PreviewHost> hostOf(Preview preview) {
    String recorded = preview.host();
    CloudProvider.RemoteHost byRecord = null;
    for (CloudProvider.HostStatus s : cloud.hosts()) {
      if (s.previews().contains(preview.id())) {
        return Optional.of(host(s.host()));
      }
      if (s.host().id().equals(recorded)) {
        byRecord = s.host();
      }
    }
    return Optional.ofNullable(byRecord).map(this::host);
  }

  @Override
  public Map<PreviewHost, Set<String>> hosts() {
    Map<PreviewHost, Set<String>> out = new LinkedHashMap<>();
    for (CloudProvider.HostStatus s : cloud.hosts()) {
      out.put(host(s.host()), Set.copyOf(new LinkedHashSet<>(s.previews())));
    }
    return out;
  }

  @Override
  public void release(String previewId) {
    cloud.release(previewId);
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    RuntimeException first = null;
    for (AutoCloseable c : owned) {
      try {
        c.close();
      } catch (Exception e) {
        RuntimeException r = e instanceof RuntimeException re ? re
            : new SshException("closing the ssh placement failed: " + redactor.redact(String.valueOf(e.getMessage())), e);
        if (first == null) {
          first = r;
        } else {
          first.addSuppressed(r);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
