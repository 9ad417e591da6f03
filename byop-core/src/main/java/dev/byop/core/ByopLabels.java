package dev.byop.core;

import dev.byop.core.internal.Checks;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The labels that mark containers, networks and volumes as byop's, so tear-down and the orphan sweep find exactly
 * what byop made and nothing else.
 */
public final class ByopLabels {
  /** Always {@code true} on everything byop creates. */
  public static final String MANAGED = "dev.byop.managed";
  /** The preview id. */
  public static final String PREVIEW = "dev.byop.preview";
  /** The app id. */
  public static final String APP = "dev.byop.app";
  /** The component (compose service) name. */
  public static final String COMPONENT = "dev.byop.component";
  /** Which installation made it, so two byop hosts sharing one engine never sweep each other's previews. */
  public static final String INSTANCE = "dev.byop.instance";
  /** The commit an image was built from (set by byop's build of a preview image). */
  public static final String COMMIT = "dev.byop.commit";
  /** Marks byop's shared router container and network (value: router id). */
  public static final String ROUTER = "dev.byop.router";

  /**
   * Label key prefixes an image may not carry (compared lowercased): those of the routers byop supports (Traefik's
   * {@code traefik.*}; Caddy's docker proxy reads {@code caddy}, {@code caddy.*}, {@code caddy_N}), byop's own
   * {@code dev.byop.*} and Compose's {@code com.docker.compose.*}. A container inherits its image's labels, so an image
   * with such a label could route another preview's host name to itself or pass for another preview's resource.
   */
  public static final java.util.List<String> RESERVED_IMAGE_LABEL_PREFIXES =
      java.util.List.of("traefik", "caddy", "dev.byop.", "com.docker.compose.");

  private ByopLabels() {}

  /**
   * Refuses an image whose labels include a reserved one ({@link #RESERVED_IMAGE_LABEL_PREFIXES}).
   *
   * @param image the image as the deployer runs it
   * @param appId the app it runs for ({@code dev.byop.app} may name it, as byop's build labels it)
   * @param component the component it is the image of
   * @param labels the image's labels ({@code docker image inspect}'s {@code .Config.Labels})
   * @throws dev.byop.core.PreviewException naming the image, the component and the label
   */
  public static void checkImageLabels(String image, String appId, String component, Map<String, String> labels) {
    for (Map.Entry<String, String> e : labels.entrySet()) {
      String key = e.getKey();
      // what byop's own build puts on a preview image: the app and component it is, and its commit
      if (key.equals(APP) && appId.equals(e.getValue()) || key.equals(COMPONENT) && component.equals(e.getValue())
          || key.equals(COMMIT)) {
        continue;
      }
      String k = key.toLowerCase(java.util.Locale.ROOT);
      for (String prefix : RESERVED_IMAGE_LABEL_PREFIXES) {
        if (k.startsWith(prefix)) {
          throw new dev.byop.core.PreviewException("image " + image + " of component '" + component + "' carries the"
              + " label '" + Checks.printable(key.length() > 200 ? key.substring(0, 200) + "…" : key) + "': labels "
              + String.join("*, ", RESERVED_IMAGE_LABEL_PREFIXES) + "* belong to byop and its routers and are refused"
              + " on preview images (remove the LABEL from the Dockerfile)");
        }
      }
    }
  }

  /**
   * {@link #checkImageLabels} on the output of {@code docker image inspect --format '{{json .Config.Labels}}'}
   * ({@code null} or a JSON object of strings).
   */
  public static void checkImageLabelsJson(String image, String appId, String component, String inspectJson) {
    Map<String, String> labels = new LinkedHashMap<>();
    try {
      com.fasterxml.jackson.databind.JsonNode n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
          inspectJson.isBlank() ? "null" : inspectJson);
      if (n != null && n.isObject()) n.fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
      else if (n != null && !n.isNull()) throw new java.io.IOException("not an object");
    } catch (java.io.IOException e) {
      throw new dev.byop.core.PreviewException("cannot read the labels of image " + image + " of component '"
          + component + "': " + e.getMessage());
    }
    checkImageLabels(image, appId, component, labels);
  }

  /** The labels of every resource of one preview. */
  public static Map<String, String> forPreview(String instance, String appId, String previewId) {
    Checks.notBlank("instance", instance);
    Map<String, String> m = new LinkedHashMap<>();
    m.put(MANAGED, "true");
    m.put(INSTANCE, instance);
    m.put(APP, appId);
    m.put(PREVIEW, previewId);
    return m;
  }

  /** {@link #forPreview} plus the component name. */
  public static Map<String, String> forComponent(String instance, String appId, String previewId, String component) {
    Map<String, String> m = forPreview(instance, appId, previewId);
    m.put(COMPONENT, component);
    return m;
  }
}
