package dev.byop.core.preview;

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
  /** Marks byop's shared router container and network (value: router id). */
  public static final String ROUTER = "dev.byop.router";

  private ByopLabels() {}

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
