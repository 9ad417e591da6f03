package dev.byop.preview.ssh;

import com.fasterxml.jackson.databind.JsonNode;
import dev.byop.core.PreviewException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import dev.byop.core.Secret;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Hetzner Cloud servers through the API v1: {@code POST /servers} with byop's labels ({@code byop-owner},
 * {@code byop-token}), listed back with {@code GET /servers?label_selector=byop-owner=<owner>} (every page), the
 * create's action followed with {@code GET /actions/{id}}, {@code DELETE /servers/{id}}; the SSH key is checked
 * against {@code GET /ssh_keys} before the first create.
 */
final class HetznerInstances implements CloudInstances {

  static final String OWNER = "byop-owner";
  static final String TOKEN = "byop-token";

  private final HetznerClient client;
  private final HetznerCloudProvider.Settings s;
  /** The create action of each server made here, until it ends. */
  private final Map<String, String> actions = new ConcurrentHashMap<>();
  private volatile boolean keyChecked;

  HetznerInstances(HetznerClient client, HetznerCloudProvider.Settings settings) {
    this.client = client;
    this.s = settings;
  }

  @Override
  public String provider() {
    return "hetzner";
  }

  private static String selector(String expression) {
    return "label_selector=" + URLEncoder.encode(expression, StandardCharsets.UTF_8);
  }

  private List<JsonNode> servers(String selector) {
    List<JsonNode> out = new ArrayList<>();
    int page = 1;
    for (int pages = 0; pages < 100; pages++) {
      JsonNode r = client.call("GET", "/servers?" + selector + "&per_page=50&page=" + page, null);
      r.path("servers").forEach(out::add);
      JsonNode next = r.path("meta").path("pagination").path("next_page");
      if (!next.canConvertToInt() || next.asInt() <= page) {
        return out;
      }
      page = next.asInt();
    }
    return out;
  }

  @Override
  public List<Instance> list() {
    List<Instance> out = new ArrayList<>();
    for (JsonNode server : servers(selector(OWNER + "=" + s.provisioning().owner()))) {
      out.add(parse(server));
    }
    return out;
  }

  Instance parse(JsonNode server) {
    JsonNode labels = server.path("labels");
    String owner = labels.path(OWNER).isTextual() ? labels.path(OWNER).asText() : null;
    String token = labels.path(TOKEN).isTextual() && labels.path(TOKEN).asText().matches("[0-9a-f]{16}") ? labels.path(TOKEN).asText() : null;
    State state = switch (server.path("status").asText("")) {
      case "running" -> State.ACTIVE;
      case "initializing", "starting" -> State.BUILDING;
      default -> State.OTHER;
    };
    JsonNode ip = server.path("public_net").path("ipv4").path("ip");
    Map<String, String> attrs = new LinkedHashMap<>();
    attrs.put("location", server.path("datacenter").path("location").path("name").asText(s.location()));
    attrs.put("serverType", server.path("server_type").path("name").asText(s.serverType()));
    return new Instance(server.path("id").asText(), server.path("name").asText(""), state, ip.isTextual() ? ip.asText() : null,
        owner, token, attrs);
  }

  /** The configured key must be one of the project's, by name or id (a typo would make a server nobody can log in to). */
  private void checkKey() {
    if (keyChecked) {
      return;
    }
    List<String> names = new ArrayList<>();
    for (JsonNode k : client.call("GET", "/ssh_keys?per_page=50", null).path("ssh_keys")) {
      if (s.sshKey().equals(k.path("name").asText()) || s.sshKey().equals(k.path("id").asText())) {
        keyChecked = true;
        return;
      }
      names.add(k.path("name").asText());
    }
    throw new PreviewException("Hetzner Cloud SSH key '" + s.sshKey() + "' (cloud.sshKey) is not among the project's keys " + names);
  }

  @Override
  public Instance create(String token, @Nullable String userData) {
    checkKey();
    Map<String, Object> body = new LinkedHashMap<>();
    String name = s.provisioning().namePrefix() + token;
    body.put("name", name);
    body.put("server_type", s.serverType());
    body.put("image", s.image());
    body.put("location", s.location());
    body.put("ssh_keys", List.of(s.sshKey()));
    body.put("labels", Map.of(OWNER, s.provisioning().owner(), TOKEN, token));
    if (userData != null) {
      body.put("user_data", userData);
    }
    body.put("start_after_create", true);
    String owned = selector(OWNER + "=" + s.provisioning().owner() + "," + TOKEN + "=" + token);
    JsonNode r = client.create("/servers", body, () -> servers(owned).stream().findFirst().map(server -> {
      // what the lookup finds is the server alone; it is followed by its status, not by an action
      com.fasterxml.jackson.databind.node.ObjectNode wrap = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
      wrap.set("server", server);
      return wrap;
    }));
    JsonNode server = r.path("server");
    if (!server.isObject()) {
      throw new PreviewException("Hetzner Cloud answered POST /servers without a server");
    }
    Instance i = parse(server);
    JsonNode action = r.path("action").path("id");
    if (action.canConvertToLong()) {
      actions.put(i.id(), action.asText());
    }
    return i;
  }

  @Override
  public void hide(Secret secret) {
    client.hide(secret);
  }

  @Override
  public Optional<Instance> get(String id) {
    JsonNode server;
    try {
      server = client.call("GET", "/servers/" + id, null).path("server");
    } catch (CloudApiException e) {
      if (e.status() == 404) {
        return Optional.empty();
      }
      throw e;
    }
    Instance i = parse(server);
    @Nullable String action = actions.get(id);
    if (action != null) {
      JsonNode a = client.call("GET", "/actions/" + action, null).path("action");
      switch (a.path("status").asText("")) {
        case "error" -> {
          actions.remove(id);
          Map<String, String> attrs = new LinkedHashMap<>(i.attributes());
          attrs.put("error", a.path("error").path("code").asText("") + ": " + a.path("error").path("message").asText(""));
          return Optional.of(new Instance(i.id(), i.name(), State.ERROR, i.ipv4(), i.owner(), i.token(), attrs));
        }
        case "success" -> actions.remove(id);
        default -> {
          return Optional.of(new Instance(i.id(), i.name(), State.BUILDING, i.ipv4(), i.owner(), i.token(), i.attributes()));
        }
      }
    }
    return Optional.of(i);
  }

  /** How long a delete action may run before the delete counts as failed. */
  static final Duration DELETE_WAIT = Duration.ofMinutes(2);
  /** How often a running delete action is polled (Hetzner deletes in a few seconds). */
  private static final long DELETE_POLL_MS = 500;

  /**
   * Deletes the server and waits for its delete action to end: the server is gone only when the action succeeded. An
   * action that ends in error, or runs past {@link #DELETE_WAIT}, is a {@link CloudApiException} naming the action's
   * error, and the caller keeps the instance (the idle sweep tries again).
   */
  @Override
  public void delete(String id) {
    actions.remove(id);
    JsonNode answer;
    try {
      answer = client.call("DELETE", "/servers/" + id, null);
    } catch (CloudApiException e) {
      if (e.status() != 404) {
        throw e;
      }
      return; // already gone
    }
    JsonNode action = answer.path("action").path("id");
    if (!action.canConvertToLong()) {
      return;
    }
    String path = "/actions/" + action.asText();
    long deadline = System.nanoTime() + DELETE_WAIT.toNanos();
    while (true) {
      JsonNode a = client.call("GET", path, null).path("action");
      String status = a.path("status").asText("");
      if (status.equals("success")) {
        return;
      }
      if (status.equals("error")) {
        throw new CloudApiException("hetzner", "DELETE", "/servers/" + id, 200, a.path("error").path("code").asText("action_failed"),
            "the delete action of server " + id + " failed: " + a.path("error").path("message").asText(""));
      }
      if (System.nanoTime() - deadline > 0) {
        throw new CloudApiException("hetzner", "DELETE", "/servers/" + id, 200, "timeout",
            "the delete action of server " + id + " still runs after " + DELETE_WAIT.toSeconds() + " s");
      }
      try {
        Thread.sleep(DELETE_POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CloudApiException("hetzner", "DELETE", "/servers/" + id, "interrupted while its delete action ran", e);
      }
    }
  }
}
