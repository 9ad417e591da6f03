package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.ByopConfig;
import dev.byop.core.ConfigException;
import dev.byop.core.ProviderSelector;
import dev.byop.core.spi.CloudProvider;
import dev.byop.core.spi.CloudProviderFactory;
import dev.byop.core.spi.PreviewDeployer;
import dev.byop.core.spi.PreviewDeployerFactory;
import dev.byop.preview.compose.CaddyRouter;
import dev.byop.preview.compose.ComposeDeployer;
import dev.byop.preview.compose.TraefikRouter;
import java.time.Duration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FactoriesTest {

  static final String FP = "SHA256:" + "A".repeat(43);

  @TempDir
  static Path dir;
  static String key;

  @BeforeAll
  static void files() throws IOException {
    key = Files.writeString(dir.resolve("key"), "not a key\n").toString();
  }

  static ByopConfig config(String cloud) {
    return ByopConfig.parse("""
                preview:
                  provider: ssh
                  domain: preview.example.com
                  router: {adminPort: 2419, server: byop, httpPort: 18480}
                  # the preview manager's own keys share the section
                  ttl: 2h
                  maxPerApp: 3
                  sweepInterval: 5m
                  reapInterval: 1m
                cloud:
                """ + cloud.replace("%KEY%", key), "test.yaml");
  }

  static ByopConfig hostConfig(String extra) {
    return ByopConfig.parse("""
                dataDir: %s
                store: {provider: jdbc}
                preview:
                  provider: ssh
                  domain: preview.example.com
                  ttl: 2h
                  maxPerApp: 3
                  sweepInterval: 0s
                  reapInterval: 30s
                  imageRepository: acme
                  router: {adminPort: 2419, server: byop, httpPort: 18480}
                %s
                cloud:
                  provider: static
                  hosts:
                    - {id: vps1, address: 10.203.1.2, user: deploy, privateKey: {file: %s}, hostKeyFingerprint: %s}
                """.formatted(dir.resolve("data"), extra.indent(2), key, FP), "host.yml");
  }

  static dev.byop.core.Byop byop(ByopConfig c) {
    return dev.byop.core.Byop.builder().config(c).discover(FactoriesTest.class.getClassLoader()).build();
  }

  @Test
  void thePreviewSectionIsCheckedAsAWholeWhenByopStarts() {
    // the preview manager's own keys (ttl, maxPerApp, sweepInterval, ...) beside the deployer's: accepted at once,
    // and by the deployer's own check too (it used to refuse them at the first deploy)
    ByopConfig ok = hostConfig("");
    try (var b = byop(ok)) {
      assertEquals("ssh", b.describeProviders().get(4).id());
    }
    new SshPreviewDeployerFactory().checkSettings(new dev.byop.core.spi.ProviderContext(ok, ok.section("preview"), dir));
    var typo = assertThrows(ConfigException.class, () -> byop(hostConfig("maxPerAp: 2")));
    assertTrue(typo.getMessage().contains("preview.maxPerAp") && typo.getMessage().contains("unknown key"), typo.getMessage());
    var nested = assertThrows(ConfigException.class, () -> byop(hostConfig("ssh: {atempts: 2}")));
    assertTrue(nested.getMessage().contains("preview.ssh.atempts"), nested.getMessage());
    var value = assertThrows(ConfigException.class, () -> byop(hostConfig("acquireWait: soon")));
    assertTrue(value.getMessage().contains("preview.acquireWait"), value.getMessage());
  }

  @Test
  void staticPoolAndSshDeployerFromConfigurationThroughDiscovery() {
    ByopConfig c = config("""
                  provider: static
                  hosts:
                    - id: vps1
                      address: 10.203.1.2
                      user: deploy
                      privateKey: {file: %KEY%}
                      hostKeyFingerprint: %FP%
                      capacity: 2
                """.replace("%FP%", FP));
    try (CloudProvider cloud = new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class)
        .discover(getClass().getClassLoader()).create(c)) {
      assertEquals(2, cloud.hosts().get(0).capacity());
      assertEquals("vps1", cloud.acquire("p1", Duration.ZERO).host().id());
    }
    try (PreviewDeployer d = new ProviderSelector<PreviewDeployer>("preview", PreviewDeployerFactory.class)
        .discover(getClass().getClassLoader()).create(c)) {
      assertFalse(d.toString().isEmpty());
    }
  }

  @Test
  void hostWithoutHostKeyPinIsRefusedNamingTheKey() {
    ByopConfig c = config("""
                  provider: static
                  hosts:
                    - address: 10.203.1.2
                      user: deploy
                      privateKey: {file: %KEY%}
                """);
    ConfigException e = assertThrows(ConfigException.class, () -> new StaticCloudProviderFactory().create(
        new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class).context(c)));
    assertTrue(e.getMessage().contains("cloud.hosts[0].hostKeyFingerprint") && e.getMessage().contains("always verified"), e.getMessage());
  }

  @Test
  void inlineSecretIsRefused() {
    ByopConfig c = config("""
                  provider: ovh
                  applicationKey: ak
                  applicationSecret: plain-text-secret
                  consumerKey: {file: %KEY%}
                  project: p
                  region: GRA11
                  flavorId: f
                  imageId: i
                  sshKeyId: k
                  privateKey: {file: %KEY%}
                  knownHosts: /kh
                """);
    ConfigException e = assertThrows(ConfigException.class, () -> new OvhCloudProviderFactory().create(
        new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class).context(c)));
    assertTrue(e.getMessage().contains("applicationSecret") && !e.getMessage().contains("plain-text-secret"), e.getMessage());
  }

  static final String OVH = """
                  provider: ovh
                  endpoint: http://127.0.0.1:9/1.0
                  applicationKey: ak
                  applicationSecret: {file: %KEY%}
                  consumerKey: {file: %KEY%}
                  project: p
                  region: GRA11
                  flavorId: f
                  imageId: i
                  sshKeyId: k
                  privateKey: {file: %KEY%}
                  knownHosts: /kh
                """;

  @Test
  void ovhReadsTheSharedProvisioningKeysAndNamesTheBadOne() {
    ConfigException noOwner = assertThrows(ConfigException.class, () -> new OvhCloudProviderFactory().create(
        new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class).context(config(OVH))));
    assertTrue(noOwner.getMessage().contains("cloud.owner") && noOwner.getMessage().contains("required"), noOwner.getMessage());
    ConfigException badCheck = assertThrows(ConfigException.class, () -> new OvhCloudProviderFactory().create(
        new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class).context(config(OVH + "  owner: ci\n  requires: [docker, nginx]\n"))));
    assertTrue(badCheck.getMessage().contains("cloud.requires") && badCheck.getMessage().contains("nginx"), badCheck.getMessage());
    ConfigException badUserData = assertThrows(ConfigException.class, () -> new OvhCloudProviderFactory().create(
        new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class).context(config(OVH + "  owner: ci\n  userData: /no/such/file\n"))));
    assertTrue(badUserData.getMessage().contains("cloud.userData") && badUserData.getMessage().contains("/no/such/file"), badUserData.getMessage());
    try (CloudProvider ovh = new OvhCloudProviderFactory().create(new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class)
        .context(config(OVH + "  owner: ci\n  maxInstances: 2\n  idleTimeout: 15m\n  capacity: 2\n  retry: {attempts: 3, window: 30s}\n")))) {
      assertTrue(ovh.hosts().isEmpty(), "nothing is called before the first acquire");
    }
  }

  @Test
  void hetznerIsConfiguredAsOvhIsAndFoundByDiscovery() {
    String hetzner = """
                  provider: hetzner
                  endpoint: http://127.0.0.1:9/v1
                  token: {file: %KEY%}
                  serverType: cx22
                  image: debian-12
                  location: fsn1
                  sshKey: byop-deploy
                  owner: ci
                  privateKey: {file: %KEY%}
                  knownHosts: /kh
                  capacity: 2
                  maxInstances: 4
                  idleTimeout: 20m
                  userData: none
                  requires: [docker, compose]
                  retry: {attempts: 3}
                """;
    try (CloudProvider cloud = new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class)
        .discover(getClass().getClassLoader()).create(config(hetzner))) {
      assertTrue(cloud instanceof HetznerCloudProvider, cloud.getClass().getName());
      assertTrue(cloud.hosts().isEmpty());
    }
    ConfigException inline = assertThrows(ConfigException.class, () -> new HetznerCloudProviderFactory().create(
        new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class).context(
            config(hetzner.replace("token: {file: %KEY%}", "token: plain-hcloud-token")))));
    assertTrue(inline.getMessage().contains("cloud.token") && !inline.getMessage().contains("plain-hcloud-token"), inline.getMessage());
    ConfigException typo = assertThrows(ConfigException.class, () -> new HetznerCloudProviderFactory().create(
        new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class).context(config(hetzner + "  server_type: cx22\n"))));
    assertTrue(typo.getMessage().contains("cloud.server_type") && typo.getMessage().contains("unknown key"), typo.getMessage());
    ConfigException owner = assertThrows(ConfigException.class, () -> new HetznerCloudProviderFactory().create(
        new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class).context(config(hetzner.replace("owner: ci", "owner: CI_Bad")))));
    assertTrue(owner.getMessage().contains("cloud.owner") && owner.getMessage().contains("CI_Bad"), owner.getMessage());
  }

  @Test
  void theFactoryHandsOutTheComposeDeployerItselfWhichClosesWhatWasMadeForItOnce() {
    ByopConfig c = config("""
                  provider: static
                  hosts:
                    - id: vps1
                      address: 10.203.1.2
                      user: deploy
                      privateKey: {file: %KEY%}
                      hostKeyFingerprint: %FP%
                """.replace("%FP%", FP));
    // no wrapper between Byop and the deployer: every method (sweep, a default method, once was lost) is its own
    PreviewDeployer d = new ProviderSelector<PreviewDeployer>("preview", PreviewDeployerFactory.class)
        .discover(getClass().getClassLoader()).create(c);
    assertTrue(d instanceof ComposeDeployer cd && cd.placement() instanceof SshPlacement && cd.router() instanceof CaddyRouter,
        d.getClass().getName());
    d.close();
    d.close();

    java.util.concurrent.atomic.AtomicInteger closes = new java.util.concurrent.atomic.AtomicInteger();
    try (CloudProvider cloud = new ProviderSelector<CloudProvider>("cloud", CloudProviderFactory.class)
        .discover(getClass().getClassLoader()).create(c);
        SshConnections pool = new SshConnections(SshOptions.defaults())) {
      SshPlacement owning = new SshPlacement(cloud, pool, new ImageShipper(pool,
          new DockerCliLocalImages(java.nio.file.Path.of("/usr/bin/docker"), null)), SshDeployerOptions.of("preview.example.com"),
          null, new dev.byop.core.internal.Redactor(), new dev.byop.core.ByopListener() { }, java.util.List.of(closes::incrementAndGet, closes::incrementAndGet));
      owning.close();
      owning.close();
      assertEquals(2, closes.get(), "each owned resource closed once, however often the placement is closed");
    }
  }

  @Test
  void theRouterIsCaddyOrTraefikAsTheLocalDeployerSpellsItOrTheSshRouterSection() {
    ComposeDeployer caddy = deployer("router: caddy\n  caddy: {admin: \"http://127.0.0.1:2419\", listener: \"http://127.0.0.1:18480\", publicPort: 18480, routeIdPrefix: t-}");
    assertEquals("t-p1", ((CaddyRouter) caddy.router()).routeId("p1"));
    ComposeDeployer traefik = deployer("router: traefik\n  traefik: {image: \"byop-it/traefik:1\", port: 18481}");
    assertTrue(traefik.router() instanceof TraefikRouter, traefik.router().id());
    ComposeDeployer section = deployer("router: {adminPort: 2419, server: byop, httpPort: 18480}");
    assertEquals("byop-p1", ((CaddyRouter) section.router()).routeId("p1"), "the ssh deployer's own route ids");

    var bad = assertThrows(ConfigException.class, () -> deployer("router: nginx"));
    assertTrue(bad.getMessage().contains("preview.router") && bad.getMessage().contains("nginx"), bad.getMessage());
    var port = assertThrows(ConfigException.class, () -> deployer("router: {adminPort: 70000}"));
    assertTrue(port.getMessage().contains("preview.router") && port.getMessage().contains("70000"), port.getMessage());
    var https = assertThrows(ConfigException.class, () -> deployer("scheme: https"));
    assertTrue(https.getMessage().contains("preview.scheme") && https.getMessage().contains("https"), https.getMessage());
  }

  static ComposeDeployer deployer(String previewKeys) {
    ByopConfig c = ByopConfig.parse("""
                preview:
                  provider: ssh
                  domain: preview.example.com
                  %s
                cloud:
                  provider: static
                  hosts:
                    - {id: vps1, address: 10.203.1.2, user: deploy, privateKey: {file: %s}, hostKeyFingerprint: %s}
                """.formatted(previewKeys, key, FP), "router.yml");
    return (ComposeDeployer) new ProviderSelector<PreviewDeployer>("preview", PreviewDeployerFactory.class)
        .register(new SshPreviewDeployerFactory()).create(c);
  }
}
