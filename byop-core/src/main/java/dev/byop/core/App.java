package dev.byop.core;

import dev.byop.core.internal.Checks;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;

/**
 * An application: an id, a display name and one or more components. The first component that serves a port is the
 * one a preview URL routes to unless the host says otherwise.
 *
 * @param id a DNS label, unique per store; part of image names and preview host names
 * @param name a display name
 * @param components at least one, with unique names
 */
public record App(String id, String name, List<Component> components) {
  public App {
    Checks.dnsLabel("app.id", id);
    Checks.notBlank("app.name", name);
    Checks.singleLine("app.name", name);
    components = Checks.list(components);
    if (components.isEmpty()) throw new ValidationException("app.components", id, "an app needs at least one component");
    var seen = new HashSet<String>();
    for (Component c : components) {
      if (!seen.add(c.name())) throw new ValidationException("app.components", c.name(), "component names must be unique");
    }
  }

  public static App of(String id, Component... components) {
    return new App(id, id, List.of(components));
  }

  public Optional<Component> component(String componentName) {
    return components.stream().filter(c -> c.name().equals(componentName)).findFirst();
  }

  /** The component a preview URL routes to: the first one with a port. */
  public Optional<Component> entryComponent() {
    return components.stream().filter(c -> c.port() > 0).findFirst();
  }
}
