package dev.byop.buildkit;

import java.util.Map;

/** Hostile build output through {@link dev.byop.core.Byop} on the embedded H2 store. */
class H2HostileBuildLogsIT extends HostileBuildLogsContract {
  @Override
  protected Map<String, Object> storeConfig() {
    return null;
  }
}
