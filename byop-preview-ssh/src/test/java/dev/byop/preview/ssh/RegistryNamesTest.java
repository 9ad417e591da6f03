package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.ImageReference;
import dev.byop.core.PreviewException;
import java.util.List;
import dev.byop.core.SecretRef;
import dev.byop.core.ValidationException;
import dev.byop.core.internal.ImageNames;
import org.junit.jupiter.api.Test;

/** The SSH host pulls exactly the name the build pushed (one function, at the address the hosts reach). */
class RegistryNamesTest {
  @Test
  void pullReferenceIsThePushTargetAtTheHostsRegistryAddress() {
    ImageReference local = ImageNames.local("byop", "library", "alpine", "0123456789ab");
    ImageReference pushed = ImageNames.remote("127.0.0.1:5000", "tenants", "library", "alpine", "0123456789ab");
    RegistryDelivery d = new RegistryDelivery("10.203.1.1:5000", "u", SecretRef.value("p"), "tenants");
    ImageReference pulled = SshPlacement.pullReference(d, "library", "alpine", local);
    assertEquals(pushed.withRegistry("10.203.1.1:5000"), pulled);
    assertEquals("10.203.1.1:5000/tenants/library/alpine:0123456789ab", pulled.toString());
    assertEquals("10.203.1.1:5000/byop/library/alpine:v1", SshPlacement.pullReference(
        new RegistryDelivery("10.203.1.1:5000", "u", SecretRef.value("p")), "library", "alpine", local.withTag("v1")).toString());
    assertThrows(ValidationException.class, () -> new RegistryDelivery("10.203.1.1:5000", "u", SecretRef.value("p"), "../x"));
  }

  @Test
  void aReferenceTheBuildPushedIsPulledAsItIsAtTheHostsAddressDigestIncluded() {
    RegistryDelivery d = new RegistryDelivery("10.203.1.1:5000", "u", SecretRef.value("p"), "tenants");
    String digest = "sha256:" + "ab".repeat(32);
    ImageReference pushed = ImageReference.parse("127.0.0.1:5000/tenants/shop/web:0123456789ab@" + digest);
    ImageReference pulled = SshPlacement.pullReference(d, "shop", "web", pushed);
    assertEquals("10.203.1.1:5000/tenants/shop/web:0123456789ab@" + digest, pulled.toString());
    assertEquals("10.203.1.1:5000/tenants/shop/web:0123456789ab", SshPlacement.dockerName(pulled), "run by its tag");
    // a registry reference outside where builds of this component push is not pulled
    for (String foreign : List.of("127.0.0.1:5000/library/alpine:0123456789ab", "127.0.0.1:5000/tenants/other/web:0123456789ab",
        "127.0.0.1:5000/tenants/shop/api:0123456789ab")) {
      PreviewException e = assertThrows(PreviewException.class,
          () -> SshPlacement.pullReference(d, "shop", "web", ImageReference.parse(foreign)), foreign);
      assertTrue(e.getMessage().contains("not under tenants/shop/web"), e.getMessage());
    }
  }
}
