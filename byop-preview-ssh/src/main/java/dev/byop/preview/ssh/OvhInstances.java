package dev.byop.preview.ssh;

import com.fasterxml.jackson.databind.JsonNode;
import dev.byop.core.Secret;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * OVH Public Cloud instances through the API v1 ({@code /cloud/project/{serviceName}/instance}).
 *
 * <p>OVH's v1 instance has neither tags nor metadata (its creation takes name, flavorId, imageId, region, sshKeyId,
 * userData, monthlyBilling), so byop's marker is the name it alone writes, {@code <namePrefix><owner>-<token>} with a
 * 16-hex-digit token, taken as a whole, together with the configured SSH key id: an instance that merely starts with
 * the prefix carries no owner and is never adopted or deleted.
 */
final class OvhInstances implements CloudInstances {

  private final OvhClient client;
  private final OvhCloudProvider.Settings s;

  OvhInstances(OvhClient client, OvhCloudProvider.Settings settings) {
    this.client = client;
    this.s = settings;
  }

  @Override
  public String provider() {
    return "ovh";
  }

  private String base() {
    return "/cloud/project/" + s.project() + "/instance";
  }

  String nameFor(String token) {
    return s.provisioning().namePrefix() + s.provisioning().owner() + "-" + token;
  }

  @Override
  public List<Instance> list() {
    List<Instance> out = new ArrayList<>();
    for (JsonNode i : client.call("GET", base(), null)) {
      out.add(parse(i));
    }
    return out;
  }

  Instance parse(JsonNode i) {
    String name = i.path("name").asText("");
    String marker = s.provisioning().namePrefix() + s.provisioning().owner() + "-";
    @Nullable String owner = null;
    @Nullable String token = null;
    String key = i.path("sshKeyId").asText("");
    if (name.startsWith(marker) && name.substring(marker.length()).matches("[0-9a-f]{16}")
        && (key.isEmpty() || key.equals(s.sshKeyId()))) {
      owner = s.provisioning().owner();
      token = name.substring(marker.length());
    }
    State state = switch (i.path("status").asText("")) {
      case "ACTIVE" -> State.ACTIVE;
      case "BUILD", "BUILDING", "REBUILD" -> State.BUILDING;
      case "ERROR" -> State.ERROR;
      default -> State.OTHER;
    };
    @Nullable String ip = null;
    for (JsonNode a : i.path("ipAddresses")) {
      if ("public".equals(a.path("type").asText()) && a.path("version").asInt() == 4) {
        ip = a.path("ip").asText();
        break;
      }
    }
    Map<String, String> attrs = new LinkedHashMap<>();
    attrs.put("region", i.path("region").asText(s.region()));
    attrs.put("flavorId", i.path("flavorId").asText(s.flavorId()));
    return new Instance(i.path("id").asText(), name, state, ip, owner, token, attrs);
  }

  @Override
  public Instance create(String token, @Nullable String userData) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("name", nameFor(token));
    body.put("flavorId", s.flavorId());
    body.put("imageId", s.imageId());
    body.put("region", s.region());
    body.put("sshKeyId", s.sshKeyId());
    body.put("monthlyBilling", false);
    if (userData != null) {
      body.put("userData", userData);
    }
    String name = nameFor(token);
    JsonNode created = client.create(base(), body, () -> {
      for (JsonNode i : client.call("GET", base(), null)) {
        if (name.equals(i.path("name").asText())) {
          return Optional.of(i);
        }
      }
      return Optional.empty();
    });
    return parse(created);
  }

  @Override
  public void hide(Secret secret) {
    client.hide(secret);
  }

  @Override
  public Optional<Instance> get(String id) {
    try {
      return Optional.of(parse(client.call("GET", base() + "/" + id, null)));
    } catch (OvhApiException e) {
      if (e.status() == 404) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Override
  public void delete(String id) {
    try {
      client.call("DELETE", base() + "/" + id, null);
    } catch (OvhApiException e) {
      if (e.status() != 404) {
        throw e;
      }
    }
  }
}
