package dev.byop.preview.ssh;

import org.jspecify.annotations.Nullable;
import dev.byop.core.Settings;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.Applicability;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.CloudProviderFactory;
import dev.byop.core.spi.ProviderContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Makes the {@code static} cloud provider from configuration.
 *
 * <pre>{@code
 * cloud:
 *   provider: static
 *   hosts:
 *     - id: vps1
 *       address: 10.203.1.2
 *       port: 22
 *       user: deploy
 *       privateKey: {file: /etc/byop/id_ed25519}
 *       hostKeyFingerprint: SHA256:…        # or knownHosts: /etc/byop/known_hosts
 *       capacity: 2
 * }</pre>
 */
public final class StaticCloudProviderFactory implements CloudProviderFactory {

  @Override
  public String id() {
    return "static";
  }

  @Override
  public Applicability applicability(ProviderContext context) {
    return context.settings().sections("hosts").isEmpty() ? Applicability.no("no hosts configured under cloud.hosts") : Applicability.yes();
  }

  @Override
  public CloudProvider create(ProviderContext context) {
    Settings s = context.settings();
    s.allowOnly("provider", "hosts");
    List<StaticCloudProvider.PoolHost> hosts = new ArrayList<>();
    for (Settings h : s.sections("hosts")) {
      h.allowOnly("id", "address", "port", "user", "privateKey", "hostKeyFingerprint", "knownHosts", "acceptNewHostKey", "capacity");
      String address = h.requireString("address");
      @Nullable String fp = h.string("hostKeyFingerprint").orElse(null);
      @Nullable String kh = h.string("knownHosts").orElse(null);
      if (fp == null && kh == null) {
        throw h.error("hostKeyFingerprint", "a host needs hostKeyFingerprint or knownHosts; host keys are always verified");
      }
      if (fp != null) {
        try {
          HostKeyPolicy.fingerprint(fp);
        } catch (IllegalArgumentException | ValidationException e) {
          throw h.error("hostKeyFingerprint", e.getMessage());
        }
      }
      int capacity = h.integer("capacity", 1);
      if (capacity < 1) {
        throw h.error("capacity", "must be at least 1, got " + capacity);
      }
      int port = h.integer("port", 22);
      if (port < 1 || port > 65535) {
        throw h.error("port", "must be between 1 and 65535, got " + port);
      }
      CloudProvider.RemoteHost rh = new CloudProvider.RemoteHost(h.string("id", address), address, port, h.requireString("user"),
          h.requireSecret("privateKey"), fp, kh, h.bool("acceptNewHostKey", false), Map.of());
      hosts.add(new StaticCloudProvider.PoolHost(rh, capacity));
    }
    return new StaticCloudProvider(hosts, Map.of());
  }
}
