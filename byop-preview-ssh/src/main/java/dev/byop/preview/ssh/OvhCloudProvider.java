package dev.byop.preview.ssh;

import dev.byop.core.ValidationException;
import dev.byop.core.internal.Redactor;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;

/**
 * Provisions OVH Public Cloud instances for previews through the OVH API v1, brings each to a ready state
 * (cloud-init user data at creation, SSH port, readiness check over SSH) and deletes it once it has been empty for
 * {@link Provisioning#idleTimeout()}.
 *
 * <p>Instances are named {@code <namePrefix><owner>-<token>} (OVH's v1 instances carry no metadata: the name is
 * byop's marker, see {@link OvhInstances}); a restarted host application adopts the ACTIVE instances carrying its
 * owner, and nothing else.
 *
 * <pre>{@code
 * CloudProvider ovh = new OvhCloudProvider(client, new OvhCloudProvider.Settings("project-id", "GRA11", flavorId, imageId,
 *     sshKeyId, Provisioning.of("ci", "debian", SecretRef.file(key), "/var/lib/byop/known_hosts").withAcceptNewHostKey(true)));
 * }</pre>
 */
public final class OvhCloudProvider extends PooledCloudProvider {

  /**
   * What and where to provision.
   *
   * @param project the cloud project id (OVH's {@code serviceName})
   * @param region e.g. {@code GRA11}
   * @param flavorId the instance flavor
   * @param imageId the image (Debian or Ubuntu for the built-in user data)
   * @param sshKeyId the OVH id of the public key installed for {@link Provisioning#user()}
   * @param provisioning what every provider shares: marker, SSH, cap, idle time, user data, readiness
   */
  public record Settings(String project, String region, String flavorId, String imageId, String sshKeyId, Provisioning provisioning) {

    public Settings {
      for (Map.Entry<String, String> e : Map.of("project", project, "region", region, "flavorId", flavorId, "imageId", imageId,
          "sshKeyId", sshKeyId).entrySet()) {
        if (e.getValue() == null || !e.getValue().matches("[A-Za-z0-9._-]+")) {
          throw new ValidationException("cloud." + e.getKey(), e.getValue(), "must be letters, digits, '.', '_' or '-'");
        }
      }
      Objects.requireNonNull(provisioning, "provisioning");
    }
  }

  public OvhCloudProvider(OvhClient client, Settings settings) {
    this(client, settings, new Redactor());
  }

  /** @param secrets the configuration's secrets, masked (with the client's own) in what this provider logs */
  OvhCloudProvider(OvhClient client, Settings settings, Redactor secrets) {
    this(client, settings, secrets, SshReadiness.Target.defaults());
  }

  /** @param target what the ssh deployer runs on the hosts (its docker command and router): what readiness checks */
  OvhCloudProvider(OvhClient client, Settings settings, Redactor secrets, SshReadiness.Target target) {
    this(client, settings, secrets, new SshReadiness(settings.provisioning().requires(), SshOptions.defaults(), target),
        InstancePool::awaitSshBanner, Clock.systemUTC());
  }

  OvhCloudProvider(OvhClient client, Settings settings, Redactor secrets, HostReadiness readiness, InstancePool.PortProbe probe,
      Clock clock) {
    super(new InstancePool(new OvhInstances(Objects.requireNonNull(client, "client"), Objects.requireNonNull(settings, "settings")),
        settings.provisioning(), readiness, probe, client.withSecrets(new Redactor(secrets)), clock));
  }
}
