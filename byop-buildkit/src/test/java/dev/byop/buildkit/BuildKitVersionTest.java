package dev.byop.buildkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which BuildKit version strings count, and what an engine release embeds. */
class BuildKitVersionTest {

  @Test
  void unstampedDistributionBuildsAreNoVersion() {
    // seen on Debian 13's docker.io 26.1.5: classic store and containerd store
    assertFalse(BuildKitClient.stampedVersion("v0.0.0+unknown-moby"));
    assertFalse(BuildKitClient.stampedVersion(""));
    assertTrue(BuildKitClient.stampedVersion("v0.13.2"));
  }

  @Test
  void engineReleasesNameTheirBuildKit() {
    assertEquals("v0.8.3", BuildKitClient.embeddedBuildKit("20.10.24+dfsg1"));
    assertEquals("v0.13.2", BuildKitClient.embeddedBuildKit("26.1.5+dfsg1"));
    assertEquals(null, BuildKitClient.embeddedBuildKit("junk"));
  }
}
