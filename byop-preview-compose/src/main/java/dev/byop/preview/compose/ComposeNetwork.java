package dev.byop.preview.compose;

import dev.byop.core.internal.Checks;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A network of a compose file: one the project creates (with byop's labels) or an existing one it only joins.
 *
 * @param external true when the network exists outside the project (e.g. the router's shared network)
 * @param name the engine-level name of an external network, or null to let compose name it {@code <project>_<key>}
 * @param labels labels of a network the project creates
 */
public record ComposeNetwork(boolean external, @Nullable String name, Map<String, String> labels) {
  public ComposeNetwork {
    if (name != null) ComposeFile.checkName("network.name", name);
    labels = ComposeFile.checkLabels("network.labels", labels);
    if (external && name == null) {
      throw new dev.byop.core.ValidationException("network.name", null, "an external network needs its name");
    }
  }

  /** A network the project creates, carrying {@code labels}. */
  public static ComposeNetwork owned(Map<String, String> labels) {
    return new ComposeNetwork(false, null, labels);
  }

  /** An existing network the project joins but never removes. */
  public static ComposeNetwork external(String name) {
    return new ComposeNetwork(true, name, Map.of());
  }
}
