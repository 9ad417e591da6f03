package dev.byop.preview.ssh;

import dev.byop.core.ValidationException;
import dev.byop.core.internal.Redactor;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;

/**
 * Provisions Hetzner Cloud servers for previews through the Hetzner Cloud API v1, brings each to a ready state
 * (cloud-init user data at creation, the create action followed to its end, SSH port, readiness check over SSH) and
 * deletes it once it has been empty for {@link Provisioning#idleTimeout()}; configured as OVH is, with the same
 * {@link Provisioning} keys.
 *
 * <p>Servers carry byop's marker as labels, {@code byop-owner=<owner>} and {@code byop-token=<token>}; a restarted
 * host application adopts the running servers carrying its owner (listed by that label selector) and nothing else,
 * whatever their names.
 *
 * <pre>{@code
 * CloudProvider hcloud = new HetznerCloudProvider(new HetznerClient(URI.create("https://api.hetzner.cloud/v1"), token),
 *     new HetznerCloudProvider.Settings("cx22", "debian-12", "fsn1", "byop-deploy",
 *         Provisioning.of("ci", "root", SecretRef.file(key), "/var/lib/byop/known_hosts").withAcceptNewHostKey(true)));
 * }</pre>
 */
public final class HetznerCloudProvider extends PooledCloudProvider {

  /**
   * What and where to provision.
   *
   * @param serverType e.g. {@code cx22}
   * @param image name or id, e.g. {@code debian-12} (Debian or Ubuntu for the built-in user data)
   * @param location e.g. {@code fsn1}
   * @param sshKey name or id of the project's SSH key installed for {@link Provisioning#user()}
   * @param provisioning what every provider shares: marker, SSH, cap, idle time, user data, readiness
   */
  public record Settings(String serverType, String image, String location, String sshKey, Provisioning provisioning) {

    public Settings {
      for (Map.Entry<String, String> e : Map.of("serverType", serverType, "image", image, "location", location).entrySet()) {
        if (e.getValue() == null || !e.getValue().matches("[A-Za-z0-9._-]+")) {
          throw new ValidationException("cloud." + e.getKey(), e.getValue(), "must be letters, digits, '.', '_' or '-'");
        }
      }
      if (sshKey == null || !sshKey.matches("[A-Za-z0-9._@ -]{1,128}")) {
        throw new ValidationException("cloud.sshKey", sshKey, "must be the name or id of one of the project's SSH keys");
      }
      Objects.requireNonNull(provisioning, "provisioning");
    }
  }

  public HetznerCloudProvider(HetznerClient client, Settings settings) {
    this(client, settings, new Redactor());
  }

  /** @param secrets the configuration's secrets, masked (with the client's token) in what this provider logs */
  HetznerCloudProvider(HetznerClient client, Settings settings, Redactor secrets) {
    this(client, settings, secrets, SshReadiness.Target.defaults());
  }

  /** @param target what the ssh deployer runs on the hosts (its docker command and router): what readiness checks */
  HetznerCloudProvider(HetznerClient client, Settings settings, Redactor secrets, SshReadiness.Target target) {
    this(client, settings, secrets, new SshReadiness(settings.provisioning().requires(), SshOptions.defaults(), target),
        InstancePool::awaitSshBanner, Clock.systemUTC());
  }

  HetznerCloudProvider(HetznerClient client, Settings settings, Redactor secrets, HostReadiness readiness,
      InstancePool.PortProbe probe, Clock clock) {
    super(new InstancePool(new HetznerInstances(Objects.requireNonNull(client, "client"), Objects.requireNonNull(settings, "settings")),
        settings.provisioning(), readiness, probe, client.withSecrets(new Redactor(secrets)), clock));
  }
}
