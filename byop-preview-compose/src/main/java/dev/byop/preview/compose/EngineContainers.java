package dev.byop.preview.compose;

import com.fasterxml.jackson.databind.JsonNode;
import dev.byop.core.ByopLabels;
import dev.byop.core.PreviewException;
import dev.byop.core.internal.Checks;
import dev.byop.core.spi.LogSink;
import dev.byop.docker.DockerClient;
import dev.byop.docker.DockerException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What the {@link ComposeDeployer} asks of a host's engine when the host has its API ({@link PreviewHost#engine()}):
 * a preview's containers with their states, images, volumes and published ports, image labels, unused-image removal,
 * and a redeploy's replacement of the containers whose image changed. One request each (kept-alive connections),
 * where the docker CLI costs a process on the host per question.
 */
final class EngineContainers {
  /** Labels compose puts on its containers; a replacement carries them over so compose keeps owning it. */
  private static final String COMPOSE_LABELS = "com.docker.compose.";
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

  private final DockerClient engine;
  private final String hostId;
  private final String instance;

  EngineContainers(DockerClient engine, String hostId, String instance) {
    this.engine = engine;
    this.hostId = hostId;
    this.instance = instance;
  }

  /** One of a preview's containers as the engine inspects it. */
  record Container(ComposeDeployer.ContainerState state, String name, String image, String imageId, Set<String> volumes,
      JsonNode inspect) {
    String component() {
      return state.component();
    }

    /** The host port {@code containerPort/tcp} is published on, or null. */
    @Nullable Integer publishedPort(int containerPort) {
      JsonNode bindings = inspect.path("NetworkSettings").path("Ports").path(containerPort + "/tcp");
      for (JsonNode b : bindings) {
        try {
          int p = Integer.parseInt(b.path("HostPort").asText(""));
          if (p > 0 && p < 65536) return p;
        } catch (NumberFormatException e) {
          // not bound yet
        }
      }
      return null;
    }
  }

  /**
   * The preview's containers (this installation's), inspected; a container removed between the listing and its
   * inspection (compose replacing it) makes the listing run again.
   */
  List<Container> containers(String previewId) {
    for (int attempt = 0; ; attempt++) {
      List<String> ids = ids(Map.of("label", List.of(ByopLabels.MANAGED + "=true", ByopLabels.INSTANCE + "=" + instance,
          ByopLabels.PREVIEW + "=" + previewId)));
      List<Container> out = new ArrayList<>();
      boolean gone = false;
      for (String id : ids) {
        JsonNode j;
        try {
          j = engine.requestJson("GET", "/containers/" + id + "/json", null);
        } catch (DockerException e) {
          if (!e.isNotFound()) throw failed("inspecting container " + id.substring(0, 12), e);
          gone = true;
          break;
        }
        out.add(container(j));
      }
      if (!gone) return out;
      if (attempt >= 3) {
        throw new PreviewException("the containers of preview " + previewId + " on " + hostId
            + " kept changing while they were inspected");
      }
    }
  }

  private static Container container(JsonNode j) {
    JsonNode st = j.path("State");
    String component = j.path("Config").path("Labels").path(ByopLabels.COMPONENT).asText("");
    ComposeDeployer.ContainerState state = new ComposeDeployer.ContainerState(j.path("Id").asText(), component,
        st.path("Status").asText(""), j.path("RestartCount").asInt(0), st.path("Health").path("Status").asText(""),
        st.path("ExitCode").asInt(0));
    Set<String> volumes = new LinkedHashSet<>();
    for (JsonNode m : j.path("Mounts")) {
      if ("volume".equals(m.path("Type").asText())) volumes.add(m.path("Name").asText());
    }
    String name = j.path("Name").asText("");
    return new Container(state, name.startsWith("/") ? name.substring(1) : name, j.path("Config").path("Image").asText(""),
        j.path("Image").asText(""), volumes, j);
  }

  /** Container ids matching engine filters, e.g. {@code {label: [a=b]}} or {@code {ancestor: [image]}}. */
  private List<String> ids(Map<String, List<String>> filters) {
    String q = URLEncoder.encode(json(filters), StandardCharsets.UTF_8);
    JsonNode list;
    try {
      list = engine.requestJson("GET", "/containers/json?all=1&filters=" + q, null);
    } catch (DockerException e) {
      throw failed("listing containers", e);
    }
    List<String> ids = new ArrayList<>();
    for (JsonNode c : list) {
      String id = c.path("Id").asText("");
      if (id.matches("[0-9a-f]{64}")) ids.add(id);
    }
    return ids;
  }

  /**
   * Refuses images carrying router or byop labels ({@link ByopLabels#checkImageLabels}).
   *
   * @throws PreviewException naming the images the engine does not have
   */
  void checkImageLabels(String appId, Map<String, String> imageByComponent) {
    List<String> missing = new ArrayList<>();
    for (Map.Entry<String, String> e : imageByComponent.entrySet()) {
      dev.byop.docker.ImageInfo info;
      try {
        info = engine.inspectImage(e.getValue()).orElse(null);
      } catch (DockerException ex) {
        throw failed("inspecting image " + e.getValue(), ex);
      }
      if (info == null) {
        missing.add(e.getValue() + " (component '" + e.getKey() + "')");
        continue;
      }
      ByopLabels.checkImageLabels(e.getValue(), appId, e.getKey(), info.labels());
    }
    if (!missing.isEmpty()) {
      throw new PreviewException("images " + missing + " are not all in the engine of " + hostId);
    }
  }

  /** The engine's id of an image, or null when it has none by that name. */
  @Nullable String imageId(String image) {
    try {
      return engine.inspectImage(image).map(dev.byop.docker.ImageInfo::id).orElse(null);
    } catch (DockerException e) {
      throw failed("inspecting image " + image, e);
    }
  }

  /** Removes {@code image} when no container (of any preview) uses it; true when it was removed. */
  boolean removeImageIfUnused(String image) {
    if (!ids(Map.of("ancestor", List.of(image))).isEmpty()) return false;
    try {
      // without force: the engine refuses while any container still uses the image
      return engine.removeImage(image, false);
    } catch (DockerException e) {
      return false;
    }
  }

  /**
   * Replaces each container of {@code changed} (component to its new service) as compose would on an image change,
   * with the engine's API: the old container stops (with {@code stopTimeout}) and is renamed aside, a new one with the
   * old one's name, compose labels and networks (with their aliases) is created from the service as the compose file
   * now says it, started, and the old one removed with its anonymous volumes. A failure after the old container was
   * set aside puts it back (the new one removed, the old renamed and started) before it is thrown.
   */
  void replace(Map<String, Container> running, Map<String, ComposeService> changed, Duration stopTimeout, LogSink log) {
    for (Map.Entry<String, ComposeService> e : changed.entrySet()) {
      Container old = running.get(e.getKey());
      ComposeService s = e.getValue();
      String oldId = old.state().id();
      String aside = oldId.substring(0, 12) + "_" + old.name();
      Map<String, Object> body = createBody(old, s);
      post("/containers/" + oldId + "/stop?t=" + stopTimeout.toSeconds(), "stopping " + old.name());
      post("/containers/" + oldId + "/rename?name=" + enc(aside), "renaming " + old.name());
      String newId = null;
      try {
        JsonNode created = engine.requestJson("POST", "/containers/create?name=" + enc(old.name()), body);
        newId = created.path("Id").asText();
        for (Map.Entry<String, Object> net : extraNetworks(old).entrySet()) {
          engine.requestJson("POST", "/networks/" + enc(net.getKey()) + "/connect",
              Map.of("Container", newId, "EndpointConfig", net.getValue()));
        }
        post("/containers/" + newId + "/start", "starting " + old.name());
      } catch (RuntimeException ex) {
        restore(old, aside, newId, ex);
        throw ex instanceof DockerException de ? failed("replacing " + old.name(), de) : ex;
      }
      try {
        engine.requestJson("DELETE", "/containers/" + oldId + "?v=1", null);
      } catch (DockerException ex) {
        log.line("could not remove the replaced container " + aside + " on " + hostId + ": " + ex.getMessage());
      }
      log.line("replaced " + old.name() + " (component " + e.getKey() + ") with image " + s.image());
    }
  }

  private void restore(Container old, String aside, @Nullable String newId, RuntimeException cause) {
    try {
      if (newId != null) engine.requestJson("DELETE", "/containers/" + newId + "?force=1&v=1", null);
      post("/containers/" + old.state().id() + "/rename?name=" + enc(old.name()), "renaming back " + aside);
      post("/containers/" + old.state().id() + "/start", "starting " + old.name() + " again");
    } catch (RuntimeException again) {
      cause.addSuppressed(again);
    }
  }

  /** The create request: the service as the compose file says, the old container's name-giving labels and networks. */
  static Map<String, Object> createBody(Container old, ComposeService s) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("Image", s.image());
    List<String> env = new ArrayList<>();
    s.environment().forEach((k, v) -> env.add(k + "=" + v));
    body.put("Env", env);
    Map<String, String> labels = new LinkedHashMap<>(s.labels());
    old.inspect().path("Config").path("Labels").fields().forEachRemaining(l -> {
      if (l.getKey().startsWith(COMPOSE_LABELS)) labels.put(l.getKey(), l.getValue().asText());
    });
    // compose v2 records the image it ran; the replacement runs the new one
    if (labels.containsKey(COMPOSE_LABELS + "image")) labels.remove(COMPOSE_LABELS + "image");
    body.put("Labels", labels);
    HealthCheck h = s.healthcheck();
    if (h != null) {
      body.put("Healthcheck", Map.of("Test", h.composeTest(), "Interval", h.interval().toNanos(),
          "Timeout", h.timeout().toNanos(), "Retries", h.retries(), "StartPeriod", h.startPeriod().toNanos()));
    }
    Map<String, Object> exposed = new LinkedHashMap<>();
    Map<String, Object> bindings = new LinkedHashMap<>();
    for (PortMapping p : s.ports()) {
      String key = p.containerPort() + "/" + p.protocol();
      exposed.put(key, Map.of());
      bindings.put(key, List.of(Map.of("HostIp", p.hostIp(), "HostPort", p.hostPort() == 0 ? "" : Integer.toString(p.hostPort()))));
    }
    if (!exposed.isEmpty()) body.put("ExposedPorts", exposed);
    Map<String, Object> hostConfig = new LinkedHashMap<>();
    hostConfig.put("RestartPolicy", Map.of("Name", s.restart().composeValue()));
    if (!bindings.isEmpty()) hostConfig.put("PortBindings", bindings);
    Map.Entry<String, Object> first = networks(old).entrySet().stream().findFirst().orElse(null);
    if (first != null) {
      hostConfig.put("NetworkMode", first.getKey());
      body.put("NetworkingConfig", Map.of("EndpointsConfig", Map.of(first.getKey(), first.getValue())));
    }
    body.put("HostConfig", hostConfig);
    return body;
  }

  /** The old container's networks and each one's aliases, without the alias its own short id gave it. */
  private static Map<String, Object> networks(Container old) {
    Map<String, Object> out = new LinkedHashMap<>();
    String shortId = old.state().id().substring(0, 12);
    for (Iterator<Map.Entry<String, JsonNode>> it = old.inspect().path("NetworkSettings").path("Networks").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> n = it.next();
      List<String> aliases = new ArrayList<>();
      for (JsonNode a : n.getValue().path("Aliases")) {
        if (!a.asText().equals(shortId)) aliases.add(a.asText());
      }
      out.put(n.getKey(), Map.of("Aliases", aliases));
    }
    return out;
  }

  private static Map<String, Object> extraNetworks(Container old) {
    Map<String, Object> all = networks(old);
    Map<String, Object> rest = new LinkedHashMap<>();
    boolean first = true;
    for (Map.Entry<String, Object> e : all.entrySet()) {
      if (!first) rest.put(e.getKey(), e.getValue());
      first = false;
    }
    return rest;
  }

  private void post(String path, String what) {
    try {
      engine.requestJson("POST", path, null);
    } catch (DockerException e) {
      // 304: already stopped or started, which is what was asked
      if (e.status() != 304) throw failed(what, e);
    }
  }

  private PreviewException failed(String what, DockerException e) {
    return new PreviewException(what + " on " + hostId + " failed: " + Checks.printable(e.getMessage()), e);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String json(Object o) {
    try {
      return JSON.writeValueAsString(o);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
