package dev.byop.preview.ssh;

import dev.byop.core.Settings;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.Applicability;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.CloudProviderFactory;
import dev.byop.core.spi.ProviderContext;
import java.net.URI;
import java.time.Duration;

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
 *   imageId: …
 *   sshKeyId: …
 *   user: debian
 *   privateKey: {file: /etc/byop/id_ed25519}
 *   knownHosts: /var/lib/byop/known_hosts
 *   acceptNewHostKey: true     # new instances' keys cannot be known in advance; must be said explicitly
 *   capacity: 2
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
    s.allowOnly("provider", "endpoint", "applicationKey", "applicationSecret", "consumerKey", "project", "region", "flavorId", "imageId",
        "sshKeyId", "namePrefix", "user", "privateKey", "knownHosts", "acceptNewHostKey", "capacity", "readyTimeout", "pollInterval");
    URI endpoint;
    try {
      endpoint = URI.create(s.string("endpoint", "https://eu.api.ovh.com/1.0"));
    } catch (IllegalArgumentException e) {
      throw s.error("endpoint", "not a URL: " + e.getMessage());
    }
    OvhClient client = new OvhClient(endpoint, s.requireString("applicationKey"), s.requireSecret("applicationSecret").resolve(),
        s.requireSecret("consumerKey").resolve());
    try {
      return new OvhCloudProvider(client, new OvhCloudProvider.Settings(s.requireString("project"), s.requireString("region"),
          s.requireString("flavorId"), s.requireString("imageId"), s.requireString("sshKeyId"), s.string("namePrefix", "byop-"),
          s.string("user", "debian"), s.requireSecret("privateKey"), s.requireString("knownHosts"), s.bool("acceptNewHostKey", false),
          s.integer("capacity", 1), s.duration("readyTimeout", Duration.ofMinutes(10)), s.duration("pollInterval", Duration.ofSeconds(5))),
          new dev.byop.core.internal.Redactor().addAll(context.config().secrets()));
    } catch (IllegalArgumentException | ValidationException e) {
      throw s.error("provider", e.getMessage());
    }
  }
}
