package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.Secret;
import dev.byop.core.SecretRef;
import dev.byop.core.internal.Redactor;
import dev.byop.core.spi.CloudProvider;
import dev.byop.testing.RequiresTestbed;
import dev.byop.testing.Testbed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Provisioning for real against fake cloud APIs (OVH- and Hetzner-shaped) whose creates make real hosts:
 * {@code scripts/cloudhost} gives each its own network namespace, address (10.203.60.0/22) and sshd with a fresh host
 * key. A provider creates one (a 500 after making it does not make a second; sshd may start seconds after ACTIVE),
 * waits for ACTIVE, the SSH port, and the readiness check over SSH, records the host key on that first login only,
 * and on release deletes the instance: the namespace is gone and so is its known_hosts line.
 */
@RequiresTestbed
class CloudProvisioningIT {

  @TempDir
  Path dir;
  FakeCloud cloud;
  Path knownHosts;
  Testbed bed;

  @BeforeEach
  void start() throws Exception {
    bed = Testbed.get();
    cloud = new FakeCloud(Path.of("").toAbsolutePath().getParent());
    knownHosts = dir.resolve("known_hosts");
    Files.writeString(knownHosts, "");
  }

  @AfterEach
  void stop() {
    cloud.close();
    assertTrue(cloud.problems.isEmpty(), cloud.problems.toString());
  }

  Provisioning provisioning() {
    return Provisioning.of("it", "root", SecretRef.file(bed.privateKey()), knownHosts.toString()).withAcceptNewHostKey(true)
        .withLimits(1, 2, Duration.ZERO)
        .withTimes(Duration.ofSeconds(30), Duration.ofMillis(200), 22, Duration.ofSeconds(20), Duration.ofSeconds(30));
  }

  HetznerCloudProvider hetzner(Provisioning p) {
    return new HetznerCloudProvider(new HetznerClient(cloud.hetznerBase(), Secret.of(FakeCloud.HCLOUD_TOKEN)),
        new HetznerCloudProvider.Settings("cx22", "debian-12", "fsn1", "byop-testbed", p), new Redactor());
  }

  OvhCloudProvider ovh(Provisioning p) {
    return new OvhCloudProvider(new OvhClient(cloud.ovhBase(), FakeCloud.OVH_AK, Secret.of(FakeCloud.OVH_AS), Secret.of(FakeCloud.OVH_CK)),
        new OvhCloudProvider.Settings(FakeCloud.OVH_PROJECT, "GRA11", "d2-2", "debian-12", "key-1", p), new Redactor());
  }

  /** Provision, log in as the lease says (pinned key), release: the host and its known_hosts line are gone. */
  void provisionUseDelete(CloudProvider provider, String kind) throws Exception {
    long t0 = System.nanoTime();
    CloudProvider.HostLease lease = provider.acquire("p1", Duration.ofMinutes(1));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    long callsToReady = cloud.calls.size();
    assertEquals(1, cloud.instanceCount(), "exactly one instance: " + cloud.calls);
    FakeCloud.Host host = cloud.hosts().values().iterator().next();
    assertEquals(host.address(), lease.host().address());
    assertTrue(host.address().startsWith("10.203.60."), host.address());
    assertFalse(lease.host().acceptNewHostKey());
    String recorded = Files.readString(knownHosts);
    assertEquals(host.address() + " " + host.hostKey(), recorded.strip(), "the key byop made and pinned is the one the host presents");
    try (SshConnections pool = new SshConnections(SshOptions.defaults())) {
      SshConnection c = pool.get(SshHost.of(lease.host()));
      assertEquals("0", c.run(List.of("id", "-u")).stdout().strip());
      assertTrue(c.run(List.of("ip", "-br", "addr")).stdout().contains(host.address() + "/30"), "we are in the host's namespace");
    }
    System.out.printf("%s: createPreview's host ready in %d ms with %d provider calls (%s)%n", kind, ms, callsToReady, cloud.calls);
    provider.release("p1");
    assertEquals(0, cloud.instanceCount());
    assertFalse(Files.exists(Path.of("/var/run/netns/byop-cloud" + host.n())), "the host's namespace is gone");
    assertEquals("", Files.readString(knownHosts).strip(), "its known_hosts line is gone");
  }

  @Test
  void aHostPresentingAnotherKeyThanTheOneItsUserDataHandedOverIsRefusedAndDeleted() throws Exception {
    cloud.creates.add(FakeCloud.Create.presentingItsOwnKey());
    try (OvhCloudProvider p = ovh(provisioning())) {
      HostKeyRejectedException e = assertThrows(HostKeyRejectedException.class, () -> p.acquire("p1", Duration.ofMinutes(1)));
      assertTrue(p.hosts().isEmpty(), e.getMessage());
    }
    assertEquals(0, cloud.instanceCount(), "the host with the wrong key was deleted");
    assertTrue(cloud.hosts().isEmpty());
    assertEquals("", Files.readString(knownHosts).strip(), "its pinned line went with it");
  }

  @Test
  void hetznerCreateAnswered500ThenSshdLateMakesOneRealHostReadyAndDeletesIt() throws Exception {
    cloud.creates.add(new FakeCloud.Create(3, false, true)); // made, but answered 500; its sshd starts 3 s late
    try (HetznerCloudProvider p = hetzner(provisioning())) {
      provisionUseDelete(p, "hetzner");
    }
    assertEquals(1, cloud.count("hetzner POST /servers"), cloud.calls.toString());
  }

  @Test
  void ovhMakesARealHostReadyAndDeletesIt() throws Exception {
    try (OvhCloudProvider p = ovh(provisioning())) {
      provisionUseDelete(p, "ovh");
    }
    assertEquals(1, cloud.count("ovh POST /cloud/project/"), cloud.calls.toString());
  }

  @Test
  void aHostWhoseBootstrapInstalledNothingIsNamedAndDeleted() {
    cloud.creates.add(new FakeCloud.Create(0, true, false));
    try (HetznerCloudProvider p = hetzner(provisioning())) {
      HostNotReadyException e = assertThrows(HostNotReadyException.class, () -> p.acquire("p1", Duration.ofMinutes(1)));
      assertEquals(List.of("docker", "compose", "router"), e.missing(), e.getMessage());
      assertTrue(e.getMessage().contains("no cloud-init on the host"), e.getMessage());
      assertTrue(p.hosts().isEmpty());
    }
    assertEquals(0, cloud.instanceCount(), "the host that is not ready was deleted");
    assertTrue(cloud.hosts().isEmpty());
  }

  @Test
  void anAdoptedHostIsReachedOnlyWithTheKeyRecordedWhenByopMadeIt() throws Exception {
    String id;
    try (HetznerCloudProvider p = hetzner(provisioning().withLimits(1, 2, Duration.ofMinutes(30)))) {
      id = p.acquire("p1", Duration.ofMinutes(1)).host().id();
    }
    FakeCloud.Host host = cloud.hosts().get(id);
    Files.writeString(knownHosts, "");  // the record is lost: the adopted host must not be trusted on first sight
    try (HetznerCloudProvider again = hetzner(provisioning().withLimits(1, 2, Duration.ofMinutes(30)));
        SshConnections pool = new SshConnections(SshOptions.defaults())) {
      again.restore(Map.of("p1", id));
      CloudProvider.RemoteHost adopted = again.hosts().get(0).host();
      assertEquals(host.address(), adopted.address());
      assertFalse(adopted.acceptNewHostKey());
      HostKeyRejectedException e = assertThrows(HostKeyRejectedException.class, () -> pool.get(SshHost.of(adopted)));
      assertTrue(e.getMessage().contains(host.address()), e.getMessage());
      again.release("p1");
      assertEquals(List.of(id), List.copyOf(cloud.hosts().keySet()), "idle time 30m: kept");
    }
  }
}
