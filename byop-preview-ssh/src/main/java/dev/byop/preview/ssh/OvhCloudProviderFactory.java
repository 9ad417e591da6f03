package dev.byop.preview.ssh;

import dev.byop.core.Settings;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.Applicability;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.CloudProviderFactory;
import dev.byop.core.spi.ProviderContext;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes the {@code ovh} cloud provider from configuration.
 *
 * <pre>{@code
 * cloud:
 *   provider: ovh
 *   endpoint: https://eu.api.ovh.com/1.0
 *   applicationKey: AbCdEf
 *   applicationSecret: {env: OVH_APPLICATION_SECRET}
 *   consumerKey: {env: OVH_CONSUMER_KEY}
 *   project: 0123456789abcdef
 *   region: GRA11
 *   flavorId: …
 *   imageId: …                 # Debian 12 or Ubuntu for the built-in user data
 *   sshKeyId: …
 *   # the keys every provisioning provider shares (Hetzner reads the same):
 *   owner: ci                  # byop's marker: only instances carrying it are adopted, used or deleted
 *   namePrefix: byop-
 *   user: debian
 *   privateKey: {file: /etc/byop/id_ed25519}
 *   knownHosts: /var/lib/byop/known_hosts
 *   # each instance gets its own ed25519 host key in its #cloud-config user data, pinned here before the first login;
 *   # acceptNewHostKey: true is needed (and used) only for user data that is not #cloud-config
 *   capacity: 2                # previews per instance
 *   maxInstances: 3            # the cap on instances with byop's marker
 *   idleTimeout: 30m           # an empty instance is deleted after this (0s: at once)
 *   userData: builtin          # or a cloud-init file, or none; builtin installs docker.io, docker-compose, caddy
 *   requires: [docker, compose, router]   # the readiness check after creation
 *   readyTimeout: 10m          # until ACTIVE
 *   sshTimeout: 3m             # then until the SSH port answers
 *   bootstrapTimeout: 10m      # then until cloud-init is done and the requirements are present
 *   retry: {attempts: 6, firstDelay: 500ms, maxDelay: 20s, window: 2m, requestTimeout: 30s}
 * }</pre>
 */
public final class OvhCloudProviderFactory implements CloudProviderFactory {

  @Override
  public String id() {
    return "ovh";
  }

  @Override
  public Applicability applicability(ProviderContext context) {
    return context.settings().has("applicationKey") ? Applicability.yes() : Applicability.no("cloud.applicationKey is not configured");
  }

  @Override
  public CloudProvider create(ProviderContext context) {
    Settings s = context.settings();
    List<String> keys = new ArrayList<>(List.of("provider", "endpoint", "applicationKey", "applicationSecret", "consumerKey", "project",
        "region", "flavorId", "imageId", "sshKeyId"));
    keys.addAll(Provisioning.KEYS);
    s.allowOnly(keys.toArray(String[]::new));
    URI endpoint;
    try {
      endpoint = URI.create(s.string("endpoint", "https://eu.api.ovh.com/1.0"));
    } catch (IllegalArgumentException e) {
      throw s.error("endpoint", "not a URL: " + e.getMessage());
    }
    String applicationKey = s.requireString("applicationKey");
    dev.byop.core.Secret applicationSecret = s.requireSecret("applicationSecret").resolve();
    dev.byop.core.Secret consumerKey = s.requireSecret("consumerKey").resolve();
    Provisioning provisioning = Provisioning.from(s, "debian");
    dev.byop.core.internal.Redactor secrets = new dev.byop.core.internal.Redactor().addAll(context.config().secrets());
    try {
      OvhClient client = new OvhClient(endpoint, applicationKey, applicationSecret, consumerKey, () -> System.currentTimeMillis() / 1000,
          new CloudHttp("ovh", provisioning.retry(), new dev.byop.core.internal.Redactor(secrets)));
      return new OvhCloudProvider(client, new OvhCloudProvider.Settings(s.requireString("project"), s.requireString("region"),
          s.requireString("flavorId"), s.requireString("imageId"), s.requireString("sshKeyId"), provisioning), secrets,
          SshReadiness.Target.of(context.config()));
    } catch (IllegalArgumentException | ValidationException e) {
      throw s.error("provider", e.getMessage());
    }
  }
}
