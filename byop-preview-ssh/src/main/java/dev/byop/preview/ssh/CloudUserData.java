package dev.byop.preview.ssh;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.byop.core.ValidationException;
import dev.byop.preview.ssh.internal.Ed25519HostKey;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * The cloud-init user data of one instance: the configured user data (or none) with byop's host key for that
 * instance merged in ({@code ssh_keys: {ed25519_private, ed25519_public}}, {@code ssh_deletekeys: true}), parsed and
 * written as YAML by Jackson, never pieced together from strings. Only {@code #cloud-config} user data can take a
 * key; any other kind (a shell script, a MIME multi-part) is passed as it is and the host's first key is accepted.
 */
final class CloudUserData {

  static final String HEADER = "#cloud-config";
  /** What OVH and Hetzner Cloud accept as user data. */
  static final int MAX_BYTES = 32 * 1024;

  private static final YAMLMapper YAML = new YAMLMapper(YAMLFactory.builder()
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
      .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
      .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
      .build());

  private CloudUserData() {}

  /** True when byop can hand an instance with this user data its host key: none, or {@code #cloud-config}. */
  static boolean canPin(@Nullable String userData) {
    return userData == null || isCloudConfig(userData);
  }

  static boolean isCloudConfig(String userData) {
    String first = userData.lines().findFirst().orElse("").strip();
    return first.equals(HEADER) || first.startsWith(HEADER + " ");
  }

  /**
   * Checks configured user data: #cloud-config must be a YAML mapping that leaves the host keys to byop and fits
   * the providers' limit with byop's key added; other user data needs accept-new (byop cannot pin its key).
   */
  static void check(@Nullable String userData, boolean acceptNew) {
    if (userData == null) {
      return;
    }
    if (!isCloudConfig(userData)) {
      if (!acceptNew) {
        throw new ValidationException("cloud.acceptNewHostKey", false, "must be true for user data that is not #cloud-config: byop "
            + "can hand a host key to pin only in #cloud-config, so such a host's first key has to be accepted");
      }
      return;
    }
    withHostKey(userData, Ed25519HostKey.generate());
  }

  /** The user data for one instance: {@code userData} (null: none) with {@code key} as its only host key. */
  static String withHostKey(@Nullable String userData, Ed25519HostKey key) {
    ObjectNode root;
    if (userData == null) {
      root = JsonNodeFactory.instance.objectNode();
    } else {
      if (!isCloudConfig(userData)) {
        throw new IllegalArgumentException("user data that is not #cloud-config cannot take a host key");
      }
      root = parse(userData);
    }
    if (root.has("ssh_keys")) {
      throw new ValidationException("cloud.userData", "ssh_keys", "must not be set in the user data: byop gives each instance its "
          + "own host key there, to pin it before the first login");
    }
    root.put("ssh_deletekeys", true);
    ObjectNode keys = root.putObject("ssh_keys");
    keys.put("ed25519_private", key.privatePem().reveal());
    keys.put("ed25519_public", key.publicLine());
    String out;
    try {
      out = HEADER + "\n" + YAML.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the user data as YAML: " + e.getOriginalMessage());
    }
    int bytes = out.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_BYTES) {
      throw new ValidationException("cloud.userData", bytes + " bytes with byop's host key", "must be at most " + MAX_BYTES
          + " bytes, the providers' limit");
    }
    return out;
  }

  private static ObjectNode parse(String userData) {
    JsonNode n;
    try {
      n = YAML.readTree(userData);
    } catch (JsonProcessingException e) {
      // the parser's message quotes the document: only its position is named, the user data may hold secrets
      throw new ValidationException("cloud.userData", "#cloud-config", "must be valid YAML (error at line "
          + (e.getLocation() == null ? "?" : e.getLocation().getLineNr()) + ")");
    }
    if (n == null || n.isMissingNode() || n.isNull()) {
      return JsonNodeFactory.instance.objectNode();
    }
    if (!n.isObject()) {
      throw new ValidationException("cloud.userData", "#cloud-config " + n.getNodeType().name().toLowerCase(java.util.Locale.ROOT),
          "must be a YAML mapping");
    }
    return (ObjectNode) n;
  }
}
