package dev.byop.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.byop.core.ValidationException;
import dev.byop.registry.internal.Json;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A manifest or index exactly as the registry stores it: the bytes are kept as they are, because any re-serialisation
 * would change the digest.
 */
public final class Manifest {
  private final String mediaType;
  private final String digest;
  private final byte[] content;
  private @Nullable JsonNode parsed;

  private Manifest(String mediaType, String digest, byte[] content) {
    this.mediaType = mediaType;
    this.digest = Digests.check(digest);
    this.content = content.clone();
  }

  /** Wraps manifest bytes, computing their digest. */
  public static Manifest of(String mediaType, byte[] content) {
    return new Manifest(mediaType, Digests.sha256(content), content);
  }

  /** An image manifest (Docker schema 2 or OCI) for a config and its layers. */
  public static Manifest image(String mediaType, Descriptor config, List<Descriptor> layers) {
    var root = Json.MAPPER.createObjectNode();
    root.put("schemaVersion", 2);
    root.put("mediaType", mediaType);
    root.set("config", descriptorNode(config));
    var arr = root.putArray("layers");
    layers.forEach(l -> arr.add(descriptorNode(l)));
    return of(mediaType, Json.bytes(root));
  }

  /** An OCI index or Docker manifest list over the given manifests; each should carry its platform. */
  public static Manifest index(String mediaType, List<Descriptor> manifests) {
    if (!MediaTypes.isIndex(mediaType)) {
      throw new ValidationException("index.mediaType", mediaType, "must be an OCI index or Docker manifest list type");
    }
    var root = Json.MAPPER.createObjectNode();
    root.put("schemaVersion", 2);
    root.put("mediaType", mediaType);
    var arr = root.putArray("manifests");
    manifests.forEach(m -> arr.add(descriptorNode(m)));
    return of(mediaType, Json.bytes(root));
  }

  private static JsonNode descriptorNode(Descriptor d) {
    var n = Json.MAPPER.createObjectNode();
    n.put("mediaType", d.mediaType());
    n.put("digest", d.digest());
    n.put("size", d.size());
    Platform p = d.platform();
    if (p != null) {
      var pn = n.putObject("platform");
      pn.put("architecture", p.architecture());
      pn.put("os", p.os());
      if (p.variant() != null) pn.put("variant", p.variant());
    }
    return n;
  }

  public String mediaType() {
    return mediaType;
  }

  public String digest() {
    return digest;
  }

  /** A copy of the exact bytes. */
  public byte[] content() {
    return content.clone();
  }

  public int size() {
    return content.length;
  }

  public Descriptor descriptor() {
    return new Descriptor(mediaType, digest, content.length);
  }

  public boolean isIndex() {
    return MediaTypes.isIndex(mediaType);
  }

  /** The entries of an index; empty for an image manifest. */
  public List<Descriptor> manifests() {
    return descriptors(json().path("manifests"));
  }

  /** The layers of an image manifest; empty for an index. */
  public List<Descriptor> layers() {
    return descriptors(json().path("layers"));
  }

  /** The config of an image manifest, or null for an index. */
  public @Nullable Descriptor config() {
    JsonNode c = json().path("config");
    return c.isObject() ? descriptor(c) : null;
  }

  private JsonNode json() {
    JsonNode p = parsed;
    if (p == null) {
      p = Json.tree(content);
      parsed = p;
    }
    return p;
  }

  private static List<Descriptor> descriptors(JsonNode arr) {
    List<Descriptor> out = new ArrayList<>();
    for (JsonNode n : arr) out.add(descriptor(n));
    return out;
  }

  private static Descriptor descriptor(JsonNode n) {
    JsonNode p = n.path("platform");
    Platform platform = p.isObject()
        ? new Platform(p.path("os").asText(), p.path("architecture").asText(),
            p.hasNonNull("variant") ? p.get("variant").asText() : null)
        : null;
    return new Descriptor(n.path("mediaType").asText(), n.path("digest").asText(), n.path("size").asLong(), platform);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Manifest m && m.digest.equals(digest) && m.mediaType.equals(mediaType)
        && Arrays.equals(m.content, content);
  }

  @Override
  public int hashCode() {
    return digest.hashCode();
  }

  @Override
  public String toString() {
    return "Manifest[" + mediaType + ", " + digest + ", " + content.length + " bytes]";
  }

  /** The manifest as UTF-8 text, for logs and debugging. */
  public String text() {
    return new String(content, StandardCharsets.UTF_8);
  }
}
