package dev.byop.preview.ssh;

import org.jspecify.annotations.Nullable;
import com.fasterxml.jackson.databind.JsonNode;
import dev.byop.core.PreviewException;
import dev.byop.core.SecretRef;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.CloudProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import dev.byop.core.internal.Redactor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Provisions OVH Public Cloud instances for previews through the OVH API v1 and deletes them when their last preview
 * is released.
 *
 * <p>Instances it creates are named {@code <prefix><preview id>} and listed back by that prefix, so a restarted host
 * application finds the instances it made. Each instance takes up to {@code capacity} previews.
 *
 * <pre>{@code
 * CloudProvider ovh = new OvhCloudProvider(client, new OvhCloudProvider.Settings("project-id", "GRA11", flavorId, imageId,
 *     sshKeyId, "byop-", "ubuntu", SecretRef.file(key), "/var/lib/byop/known_hosts", true, 1, Duration.ofMinutes(10),
 *     Duration.ofSeconds(5)));
 * }</pre>
 */
public final class OvhCloudProvider implements CloudProvider {

  private static final Logger LOG = LoggerFactory.getLogger(OvhCloudProvider.class);

  /**
   * What and where to provision, and how to reach the instances.
   *
   * @param project the cloud project id (OVH's {@code serviceName})
   * @param region e.g. {@code GRA11}
   * @param flavorId the instance flavor
   * @param imageId the image (a Linux with Docker and Compose, or one cloud-init installs them on)
   * @param sshKeyId the OVH id of the public key installed for {@code user}
   * @param namePrefix instance names start with this; only such instances are ever used or deleted
   * @param user SSH login user on the instances
   * @param privateKey the private key matching {@code sshKeyId}
   * @param knownHosts known_hosts file for the instances
   * @param acceptNewHostKey record a new instance's first-seen key in {@code knownHosts} (OVH cannot tell the key
   *     beforehand); when false, the key must already be there
   * @param capacity previews per instance
   * @param readyTimeout how long an instance may take to become ACTIVE
   * @param pollInterval how often its state is polled
   */
  public record Settings(String project, String region, String flavorId, String imageId, String sshKeyId, String namePrefix,
      String user, SecretRef privateKey, String knownHosts, boolean acceptNewHostKey, int capacity, Duration readyTimeout,
      Duration pollInterval) {

    public Settings {
      for (Map.Entry<String, String> e : Map.of("project", project, "region", region, "flavorId", flavorId, "imageId", imageId,
          "namePrefix", namePrefix, "user", user).entrySet()) {
        if (e.getValue() == null || !e.getValue().matches("[A-Za-z0-9._-]+")) {
          throw new ValidationException("ovh." + e.getKey(), e.getValue(), "must be letters, digits, '.', '_' or '-'");
        }
      }
      Objects.requireNonNull(privateKey, "privateKey");
      Objects.requireNonNull(knownHosts, "knownHosts");
      if (capacity < 1) {
        throw new ValidationException("ovh.capacity", capacity, "must be at least 1");
      }
    }
  }

  private final OvhClient client;
  private final Settings s;
  private final Redactor redactor;
  private final Map<String, RemoteHost> leases = new LinkedHashMap<>();
  private final Map<String, RemoteHost> instances = new LinkedHashMap<>();

  public OvhCloudProvider(OvhClient client, Settings settings) {
    this(client, settings, new Redactor());
  }

  /** @param secrets the configuration's secrets, masked (with the client's own) in what this provider logs */
  OvhCloudProvider(OvhClient client, Settings settings, Redactor secrets) {
    this.client = Objects.requireNonNull(client, "client");
    this.s = Objects.requireNonNull(settings, "settings");
    this.redactor = client.withSecrets(new Redactor(secrets));
  }

  private String base() {
    return "/cloud/project/" + s.project() + "/instance";
  }

  /** Instances of the project whose names carry this provider's prefix, as OVH lists them. */
  public List<JsonNode> ownInstances() {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode i : client.call("GET", base(), null)) {
      if (i.path("name").asText("").startsWith(s.namePrefix())) {
        out.add(i);
      }
    }
    return out;
  }

  /**
   * Adopts the ACTIVE instances this prefix made and puts the recorded previews back on them, so that their slots
   * count and release deletes an instance once its last preview goes; a lease on an instance that is gone is returned.
   */
  @Override
  public synchronized java.util.Set<String> restore(Map<String, String> recorded) {
    adopt();
    java.util.Set<String> unknown = new java.util.LinkedHashSet<>();
    recorded.forEach((preview, hostId) -> {
      RemoteHost h = instances.get(hostId);
      if (h == null) {
        unknown.add(preview);
      } else {
        leases.put(preview, h);
      }
    });
    return unknown;
  }

  private void adopt() {
    for (JsonNode i : ownInstances()) {
      if ("ACTIVE".equals(i.path("status").asText())) {
        instances.putIfAbsent(i.path("id").asText(), toHost(i));
      }
    }
  }

  @Override
  public synchronized HostLease acquire(String previewId, Duration wait) {
    if (!previewId.matches("[A-Za-z0-9_-]+")) {
      throw new PreviewException("preview id '" + previewId + "' cannot name an instance: letters, digits, '_' and '-' only");
    }
    RemoteHost held = leases.get(previewId);
    if (held != null) {
      return new HostLease(previewId, held);
    }
    if (instances.isEmpty()) {
      adopt(); // ACTIVE instances this prefix made before a restart
    }
    for (RemoteHost h : instances.values()) {
      if (leases.values().stream().filter(h::equals).count() < s.capacity()) {
        leases.put(previewId, h);
        return new HostLease(previewId, h);
      }
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("name", s.namePrefix() + previewId);
    body.put("flavorId", s.flavorId());
    body.put("imageId", s.imageId());
    body.put("region", s.region());
    body.put("sshKeyId", s.sshKeyId());
    body.put("monthlyBilling", false);
    JsonNode created = client.call("POST", base(), body);
    String id = created.path("id").asText();
    if (id.isEmpty() || !id.matches("[A-Za-z0-9-]+")) {
      throw new PreviewException("OVH returned no usable instance id for preview " + previewId + ": " + created);
    }
    LOG.info("created OVH instance {} for preview {}", id, previewId);
    Duration limit = s.readyTimeout().compareTo(wait) > 0 ? s.readyTimeout() : wait;
    long deadline = System.nanoTime() + limit.toNanos();
    JsonNode i = created;
    while (!"ACTIVE".equals(i.path("status").asText())) {
      String st = i.path("status").asText();
      if (st.equals("ERROR")) {
        deleteQuietly(id);
        throw new PreviewException("OVH instance " + id + " for preview " + previewId + " went to ERROR");
      }
      if (System.nanoTime() > deadline) {
        deleteQuietly(id);
        throw new PreviewException("OVH instance " + id + " for preview " + previewId + " not ACTIVE within " + limit + " (last status " + st + ")");
      }
      try {
        Thread.sleep(s.pollInterval().toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        deleteQuietly(id);
        throw new PreviewException("interrupted waiting for OVH instance " + id, e);
      }
      i = client.call("GET", base() + "/" + id, null);
    }
    RemoteHost h = toHost(i);
    instances.put(id, h);
    leases.put(previewId, h);
    return new HostLease(previewId, h);
  }

  private RemoteHost toHost(JsonNode i) {
    @Nullable String ip = null;
    for (JsonNode a : i.path("ipAddresses")) {
      if ("public".equals(a.path("type").asText()) && a.path("version").asInt() == 4) {
        ip = a.path("ip").asText();
        break;
      }
    }
    if (ip == null) {
      throw new PreviewException("OVH instance " + i.path("id").asText() + " has no public IPv4 address");
    }
    return new RemoteHost(i.path("id").asText(), ip, 22, s.user(), s.privateKey(), null, s.knownHosts(), s.acceptNewHostKey(),
        Map.of("provider", "ovh", "region", i.path("region").asText(s.region()), "flavorId", i.path("flavorId").asText(s.flavorId()),
            "name", i.path("name").asText()));
  }

  private void deleteQuietly(String id) {
    try {
      client.call("DELETE", base() + "/" + id, null);
    } catch (RuntimeException e) {
      LOG.warn("could not delete OVH instance {}: {}", id, redactor.redact(String.valueOf(e.getMessage())));
    }
  }

  @Override
  public synchronized void release(String previewId) {
    RemoteHost h = leases.remove(previewId);
    if (h == null) {
      return;
    }
    if (!leases.containsValue(h)) {
      client.call("DELETE", base() + "/" + h.id(), null);
      instances.remove(h.id());
      LOG.info("deleted OVH instance {} after its last preview {}", h.id(), previewId);
    }
  }

  @Override
  public synchronized List<HostStatus> hosts() {
    List<HostStatus> out = new ArrayList<>();
    for (RemoteHost h : instances.values()) {
      List<String> previews = new ArrayList<>();
      leases.forEach((p, l) -> {
        if (l.equals(h)) {
          previews.add(p);
        }
      });
      out.add(new HostStatus(h, s.capacity(), List.copyOf(previews)));
    }
    return out;
  }

  @Override
  public void close() {
    // instances outlive the process on purpose: running previews keep their hosts
  }
}
