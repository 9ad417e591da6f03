package dev.byop.registry.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class EngineErrorsTest {
  @Test
  void unauthorizedIsA401AndFinal() {
    EngineErrors.Classified c = EngineErrors.classify("unauthorized: authentication required");
    assertEquals(401, c.status());
    assertEquals(List.of("UNAUTHORIZED"), c.codes());
    assertFalse(c.transientFailure());
  }

  @Test
  void deniedIsA403() {
    assertEquals(403, EngineErrors.classify("denied: requested access to the resource is denied").status());
  }

  @Test
  void connectionFailuresAreTransientWithoutStatus() {
    EngineErrors.Classified c = EngineErrors.classify(
        "Get \"http://127.0.0.1:1/v2/\": dial tcp 127.0.0.1:1: connect: connection refused");
    assertEquals(0, c.status());
    assertTrue(c.transientFailure());
  }

  @Test
  void serverErrorsCarryTheirStatusAndAreTransient() {
    EngineErrors.Classified c = EngineErrors.classify("received unexpected HTTP status: 503 Service Unavailable");
    assertEquals(503, c.status());
    assertTrue(c.transientFailure());
    assertFalse(EngineErrors.classify("received unexpected HTTP status: 400 Bad Request").transientFailure());
  }

  @Test
  void registryCodesInTheTextAreKept() {
    assertEquals(List.of("MANIFEST_INVALID"), EngineErrors.classify("manifest invalid: manifest invalid").codes());
    assertEquals(List.of("NAME_UNKNOWN"),
        EngineErrors.classify("name unknown: repository name not known to registry").codes());
  }
}
