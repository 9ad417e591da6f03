package dev.byop.preview.ssh;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Recognising a shipped image across image stores (config digest on classic, manifest digest on containerd). */
class LocalImageIdentityTest {

  static final String CONFIG = "sha256:" + "a".repeat(64);
  static final String MANIFEST = "sha256:" + "b".repeat(64);
  static final String CREATED = "2026-12-01T21:34:29.131656322Z";
  static final List<String> LAYERS = List.of("sha256:" + "1".repeat(64), "sha256:" + "2".repeat(64));

  @Test
  void sameIdOrSameConfigTimeAndLayers() {
    LocalImages.LocalImage img = new LocalImages.LocalImage("x:1", CONFIG, LAYERS, CREATED);
    assertTrue(img.sameAs(CONFIG, "other", List.of()), "same id");
    assertTrue(img.sameAs(MANIFEST, CREATED, LAYERS), "a containerd store's name for the same image");
  }

  @Test
  void anotherBuildOrOtherLayersOrNothingIsNotTheSame() {
    LocalImages.LocalImage img = new LocalImages.LocalImage("x:1", CONFIG, LAYERS, CREATED);
    assertFalse(img.sameAs(MANIFEST, "2026-12-01T21:34:30Z", LAYERS), "another build of the same layers");
    assertFalse(img.sameAs(MANIFEST, CREATED, LAYERS.subList(0, 1)), "other layers");
    assertFalse(img.sameAs(null, CREATED, LAYERS), "no image on the host");
    assertFalse(new LocalImages.LocalImage("x:1", CONFIG, LAYERS).sameAs(MANIFEST, CREATED, LAYERS),
        "without a creation time only the id counts");
  }
}
