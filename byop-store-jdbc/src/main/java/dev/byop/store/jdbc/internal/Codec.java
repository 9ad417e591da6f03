package dev.byop.store.jdbc.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.byop.core.BuildConfig;
import dev.byop.core.SecretRef;
import dev.byop.core.StoreException;
import dev.byop.core.ValidationException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** JSON for the columns that hold maps and build requests; secrets are stored as references only, never values. */
final class Codec {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<LinkedHashMap<String, String>> STRING_MAP = new TypeReference<>() { };

  private Codec() { }

  static String map(Map<String, String> map) {
    try {
      return JSON.writeValueAsString(new LinkedHashMap<>(map));
    } catch (JsonProcessingException e) {
      throw new StoreException("cannot encode map", e);
    }
  }

  static Map<String, String> map(String json) {
    try {
      return JSON.readValue(json, STRING_MAP);
    } catch (JsonProcessingException e) {
      throw new StoreException("stored map is not valid JSON", e);
    }
  }

  /** A secret reference as stored: {@code env:NAME} or {@code file:PATH}; a value is refused, never written. */
  static String secretRef(String field, SecretRef ref) {
    if (ref instanceof SecretRef.Env env) return "env:" + env.name();
    if (ref instanceof SecretRef.File file) return "file:" + file.path();
    throw new ValidationException(field, ref.describe(), "only an env or file reference can be stored, not a value");
  }

  static SecretRef secretRef(String stored) {
    if (stored.startsWith("env:")) return SecretRef.env(stored.substring(4));
    if (stored.startsWith("file:")) return SecretRef.file(Path.of(stored.substring(5)));
    throw new StoreException("a stored secret is not a reference");
  }

  static String buildConfig(BuildConfig c) {
    ObjectNode n = JSON.createObjectNode();
    n.put("component", c.component());
    n.put("commit", c.commit());
    n.put("dockerfile", c.dockerfile());
    n.set("buildArgs", JSON.valueToTree(c.buildArgs()));
    n.put("target", c.target());
    n.set("labels", JSON.valueToTree(c.labels()));
    n.set("platforms", JSON.valueToTree(c.platforms()));
    n.put("noCache", c.noCache());
    ObjectNode secrets = n.putObject("secrets");
    c.secrets().forEach((id, ref) -> {
      if (ref instanceof SecretRef.Env env) {
        secrets.put(id, "env:" + env.name());
      } else if (ref instanceof SecretRef.File file) {
        secrets.put(id, "file:" + file.path());
      } else {
        // A value given in code would have to be written to the database in clear; refuse instead.
        throw new ValidationException("build.secrets." + id, ref.describe(),
            "a build secret that is stored with its job must be an env or file reference, not a value");
      }
    });
    n.put("tag", c.tag());
    return n.toString();
  }

  static BuildConfig buildConfig(String json) {
    try {
      JsonNode n = JSON.readTree(json);
      BuildConfig.Builder b = BuildConfig.builder();
      if (text(n, "component") != null) b.component(text(n, "component"));
      if (text(n, "commit") != null) b.commit(text(n, "commit"));
      if (text(n, "dockerfile") != null) b.dockerfile(text(n, "dockerfile"));
      if (text(n, "target") != null) b.target(text(n, "target"));
      if (text(n, "tag") != null) b.tag(text(n, "tag"));
      JSON.convertValue(n.path("buildArgs"), STRING_MAP).forEach(b::buildArg);
      JSON.convertValue(n.path("labels"), STRING_MAP).forEach(b::label);
      List<String> platforms = new ArrayList<>();
      n.path("platforms").forEach(p -> platforms.add(p.asText()));
      b.platforms(platforms);
      b.noCache(n.path("noCache").asBoolean(false));
      JSON.convertValue(n.path("secrets"), STRING_MAP).forEach((id, ref) -> {
        if (ref.startsWith("env:")) b.secret(id, SecretRef.env(ref.substring(4)));
        else if (ref.startsWith("file:")) b.secret(id, SecretRef.file(Path.of(ref.substring(5))));
        else throw new StoreException("stored build secret '" + id + "' is not a reference");
      });
      return b.build();
    } catch (JsonProcessingException e) {
      throw new StoreException("stored build request is not valid JSON", e);
    }
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }
}
