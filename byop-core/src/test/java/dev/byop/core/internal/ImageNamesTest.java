package dev.byop.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.BuildConfig;
import dev.byop.core.ByopConfig;
import dev.byop.core.ConfigException;
import dev.byop.core.ValidationException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ImageNamesTest {
  static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

  @Test
  void aUserTagCanNeverBeACommitsTag() {
    String commitTag = ImageNames.tag(COMMIT);
    var e = assertThrows(ValidationException.class, () -> BuildConfig.builder().tag(commitTag).build());
    assertEquals("build.tag", e.field());
    assertTrue(e.getMessage().contains("reserved for images built from commits"), e.getMessage());
    for (String hex : new String[] {"0123456", COMMIT, "deadbeefcafe"}) {
      assertThrows(ValidationException.class, () -> ImageNames.checkUserTag("build.tag", hex), hex);
    }
    for (String ok : new String[] {"v1", "latest", "v" + commitTag, "0123456789ABCD", "abc", "123456"}) {
      assertEquals(ok, BuildConfig.builder().tag(ok).build().tag());
    }
    // a stored row with such a tag (from before the rule) is refused at build time too
    assertThrows(ValidationException.class, () -> ImageNames.buildTag(commitTag, COMMIT));
    assertEquals(commitTag, ImageNames.buildTag(null, COMMIT));
  }

  @Test
  void pushesLandUnderTheNamespaceSoNoAppReachesAnotherRepository() {
    assertEquals("127.0.0.1:5000/byop/library/alpine:latest",
        ImageNames.remote("127.0.0.1:5000", "byop", "library", "alpine", "latest").toString());
    assertEquals("registry.example.com/team/byop/shop/web:v1",
        ImageNames.remote("registry.example.com", "team/byop", "shop", "web", "v1").toString());
    for (String bad : new String[] {"", "Byop", "a//b", "/byop", "byop/", "127.0.0.1:5000", "a b", "..", "-x"}) {
      assertThrows(ValidationException.class, () -> ImageNames.checkNamespace("registry.namespace", bad), bad);
    }
  }

  @Test
  void theNamespaceSettingIsReadAndValidated() {
    assertEquals("byop", ImageNames.namespace(ByopConfig.of(Map.of()).section("registry")));
    assertEquals("tenants", ImageNames.namespace(ByopConfig.of(Map.of("registry", Map.of("namespace", "tenants")))
        .section("registry")));
    var e = assertThrows(ConfigException.class, () -> ImageNames.namespace(
        ByopConfig.of(Map.of("registry", Map.of("namespace", "../library"))).section("registry")));
    assertTrue(e.getMessage().contains("registry.namespace"), e.getMessage());
    var o = DefaultBuildOrchestrator.Options.from(ByopConfig.of(Map.of("registry", Map.of("namespace", "tenants"),
        "preview", Map.of("imageRepository", "local-images"))));
    assertEquals("tenants", o.namespace());
    assertEquals("local-images", o.localRepository(), "builds name local images as previews look them up");
  }
}
