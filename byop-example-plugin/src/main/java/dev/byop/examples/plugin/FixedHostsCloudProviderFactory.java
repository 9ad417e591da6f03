package dev.byop.examples.plugin;

import dev.byop.core.ConfigException;
import dev.byop.core.Settings;
import dev.byop.core.spi.Applicability;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.CloudProvider.RemoteHost;
import dev.byop.core.spi.CloudProviderFactory;
import dev.byop.core.spi.ProviderContext;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Makes a {@link FixedHostsCloudProvider} from the {@code cloud} section; id {@code example-fixed}.
 *
 * <pre>{@code
 * cloud:
 *   provider: example-fixed
 *   hosts:
 *     - name: vps1
 *       address: 10.203.0.2
 *       user: root
 *       privateKey: { file: /root/.ssh/id_ed25519 }
 *       knownHosts: /root/.ssh/known_hosts
 *       capacity: 2
 * }</pre>
 */
public final class FixedHostsCloudProviderFactory implements CloudProviderFactory {
  /** The id configuration uses to pick this provider. */
  public static final String ID = "example-fixed";

  @Override
  public String id() {
    return ID;
  }

  /** Below byop's own providers, so it is used only when configuration names it or nothing else fits. */
  @Override
  public int priority() {
    return -10;
  }

  @Override
  public Applicability applicability(ProviderContext context) {
    if (context.settings().sections("hosts").isEmpty()) {
      return Applicability.no("no hosts configured under cloud.hosts");
    }
    return Applicability.yes();
  }

  @Override
  public CloudProvider create(ProviderContext context) {
    Settings s = context.settings();
    s.allowOnly("provider", "hosts");
    List<FixedHostsCloudProvider.Slot> slots = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (Settings h : s.sections("hosts")) {
      h.allowOnly("name", "address", "port", "user", "privateKey", "hostKeyFingerprint", "knownHosts", "capacity");
      String name = h.requireString("name");
      if (!names.add(name)) throw h.error("name", "duplicate host name '" + name + "'");
      String fingerprint = h.string("hostKeyFingerprint").orElse(null);
      String knownHosts = h.string("knownHosts").orElse(null);
      // This provider only hands out hosts that exist already, so their keys must be pinned: no trust on first use.
      if (fingerprint == null && knownHosts == null) {
        throw h.error("name", "host '" + name + "' needs hostKeyFingerprint or knownHosts to pin its SSH host key");
      }
      int port = h.integer("port", 22);
      if (port < 1 || port > 65535) throw h.error("port", "must be 1..65535, got " + port);
      int capacity = h.integer("capacity", 1);
      if (capacity < 1) throw h.error("capacity", "must be at least 1, got " + capacity);
      RemoteHost host = new RemoteHost(name, h.requireString("address"), port, h.string("user", "root"),
          h.requireSecret("privateKey"), fingerprint, knownHosts, false, Map.of("provider", ID));
      slots.add(new FixedHostsCloudProvider.Slot(host, capacity));
    }
    if (slots.isEmpty()) throw new ConfigException(s.path() + ".hosts", "at least one host is required");
    return new FixedHostsCloudProvider(slots);
  }
}
