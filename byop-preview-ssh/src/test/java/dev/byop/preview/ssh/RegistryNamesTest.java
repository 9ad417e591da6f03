package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.byop.core.ImageReference;
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
    ImageReference pulled = SshPreviewDeployer.pullReference(d, "library", "alpine", local);
    assertEquals(pushed.withRegistry("10.203.1.1:5000"), pulled);
    assertEquals("10.203.1.1:5000/tenants/library/alpine:0123456789ab", pulled.toString());
    assertEquals("10.203.1.1:5000/byop/library/alpine:v1", SshPreviewDeployer.pullReference(
        new RegistryDelivery("10.203.1.1:5000", "u", SecretRef.value("p")), "library", "alpine", local.withTag("v1")).toString());
    assertThrows(ValidationException.class, () -> new RegistryDelivery("10.203.1.1:5000", "u", SecretRef.value("p"), "../x"));
  }
}
