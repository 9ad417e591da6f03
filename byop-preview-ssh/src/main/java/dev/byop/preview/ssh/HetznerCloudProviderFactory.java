package dev.byop.preview.ssh;

import dev.byop.core.Secret;
import dev.byop.core.Settings;
import dev.byop.core.ValidationException;
import dev.byop.core.internal.Redactor;
import dev.byop.core.spi.Applicability;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.CloudProviderFactory;
import dev.byop.core.spi.ProviderContext;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes the {@code hetzner} cloud provider from configuration: Hetzner's own keys, then the same keys as OVH for
 * everything else ({@link Provisioning}).
 *
 * <pre>{@code
 * cloud:
 *   provider: hetzner
 *   endpoint: https://api.hetzner.cloud/v1
 *   token: {env: HCLOUD_TOKEN}
 *   serverType: cx22
 *   image: debian-12
 *   location: fsn1
 *   sshKey: byop-deploy          # name or id of the project's key
 *   owner: ci                    # the label byop-owner=ci marks byop's servers
 *   user: root
 *   privateKey: {file: /etc/byop/id_ed25519}
 *   knownHosts: /var/lib/byop/known_hosts
 *   capacity: 2
 *   maxInstances: 3
 *   idleTimeout: 30m
 *   userData: builtin            # or a cloud-init file, or none
 * }</pre>
 */
public final class HetznerCloudProviderFactory implements CloudProviderFactory {

  @Override
  public String id() {
    return "hetzner";
  }

  @Override
  public Applicability applicability(ProviderContext context) {
    return context.settings().has("serverType") ? Applicability.yes() : Applicability.no("cloud.serverType is not configured");
  }

  @Override
  public CloudProvider create(ProviderContext context) {
    Settings s = context.settings();
    List<String> keys = new ArrayList<>(List.of("provider", "endpoint", "token", "serverType", "image", "location", "sshKey"));
    keys.addAll(Provisioning.KEYS);
    s.allowOnly(keys.toArray(String[]::new));
    URI endpoint;
    try {
      endpoint = URI.create(s.string("endpoint", "https://api.hetzner.cloud/v1"));
    } catch (IllegalArgumentException e) {
      throw s.error("endpoint", "not a URL: " + e.getMessage());
    }
    Secret token = s.requireSecret("token").resolve();
    Provisioning provisioning = Provisioning.from(s, "root");
    Redactor secrets = new Redactor().addAll(context.config().secrets());
    try {
      HetznerClient client = new HetznerClient(endpoint, token, new CloudHttp("hetzner", provisioning.retry(), new Redactor(secrets)));
      return new HetznerCloudProvider(client, new HetznerCloudProvider.Settings(s.requireString("serverType"), s.requireString("image"),
          s.requireString("location"), s.requireString("sshKey"), provisioning), secrets,
          SshReadiness.Target.of(context.config()));
    } catch (IllegalArgumentException | ValidationException e) {
      throw s.error("provider", e.getMessage());
    }
  }
}
