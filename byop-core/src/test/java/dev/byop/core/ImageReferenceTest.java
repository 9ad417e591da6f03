package dev.byop.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ImageReferenceTest {
  private static final String D = "sha256:" + "a".repeat(64);

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
      busybox                                   | docker.io      | library/busybox        | latest  | -
      busybox:1.36                              | docker.io      | library/busybox        | 1.36    | -
      library/busybox                           | docker.io      | library/busybox        | latest  | -
      docker.io/busybox                         | docker.io      | library/busybox        | latest  | -
      index.docker.io/library/busybox:1         | docker.io      | library/busybox        | 1       | -
      registry-1.docker.io/team/app:v2          | docker.io      | team/app               | v2      | -
      user/app                                  | docker.io      | user/app               | latest  | -
      localhost/app                             | localhost      | app                    | latest  | -
      localhost:5000/app:dev                    | localhost:5000 | app                    | dev     | -
      127.0.0.1:5000/shop/web:abc123            | 127.0.0.1:5000 | shop/web               | abc123  | -
      10.203.1.1:5000/a/b/c                     | 10.203.1.1:5000| a/b/c                  | latest  | -
      ghcr.io/org/team/app:1.2.3-rc.1           | ghcr.io        | org/team/app           | 1.2.3-rc.1 | -
      my-registry.example.com:443/x_y/z.w:T_1   | my-registry.example.com:443 | x_y/z.w  | T_1    | -
      Registry.Example.com/app                  | Registry.Example.com | app              | latest  | -
      UPPERHOST/app                             | UPPERHOST      | app                    | latest  | -
      [::1]:5000/app:1                          | [::1]:5000     | app                    | 1       | -
      a__b/c--d/e.f_g                           | docker.io      | a__b/c--d/e.f_g        | latest  | -
      app@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa | docker.io | library/app | - | sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
      host:5000/app:1@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa | host:5000 | app | 1 | sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
      app:__init__                              | docker.io      | library/app            | __init__ | -
      """)
  void parsesAndNormalises(String input, String registry, String repository, String tag, String digest) {
    ImageReference r = ImageReference.parse(input);
    assertEquals(registry, r.registry());
    assertEquals(repository, r.repository());
    assertEquals(tag, r.tag());
    assertEquals(digest, r.digest());
    assertEquals(r, ImageReference.parse(r.toString()), "round trip of " + r);
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', textBlock = """
      ''                                 | must not be empty
      :tag                               | must name a repository
      Busybox                            | must be lowercase
      user/App                           | must be lowercase
      127.0.0.1:5000/Shop/web            | must be lowercase
      app:                               | tag ''
      app:-tag                           | tag '-tag'
      app:.tag                           | tag '.tag'
      app:tag with space                 | tag
      app/                               | path component ''
      /app                               | path component ''
      a//b                               | path component ''
      app_/x                             | path component 'app_'
      -app                               | path component '-app'
      app-                               | path component 'app-'
      a...b                              | path component 'a...b'
      app@sha256:abc                     | at least 32
      app@sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA | lowercase hexadecimal
      app@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa | lowercase hexadecimal
      app@md5                            | digest 'md5'
      -host.com:5000/app                 | registry '-host.com:5000'
      host.com:port/app                  | registry 'host.com:port'
      host..com/app                      | registry 'host..com'
      app:tag:tag                        | path component 'app:tag'
      """)
  void rejectsWithTheRule(String input, String rule) {
    ValidationException e = assertThrows(ValidationException.class, () -> ImageReference.parse(input));
    assertTrue(e.getMessage().contains(rule), () -> e.getMessage() + " should mention " + rule);
    assertTrue(e.getMessage().contains("'" + input + "'") || input.isEmpty(), e.getMessage());
  }

  @org.junit.jupiter.api.Test
  void overlongTagAndNameAreRejected() {
    assertEquals(128, ImageReference.parse("app:" + "t".repeat(128)).tag().length());
    assertThrows(ValidationException.class, () -> ImageReference.parse("app:" + "t".repeat(129)));
    String path = "a/".repeat(123) + "ab"; // with "host:5/" exactly 255 characters
    assertEquals(255, ImageReference.parse("host:5/" + path).name().length());
    var e = assertThrows(ValidationException.class, () -> ImageReference.parse("host:5/" + path + "c"));
    assertTrue(e.getMessage().contains("at most 255"), e.getMessage());
  }

  @org.junit.jupiter.api.Test
  void withersAndFamiliarForm() {
    ImageReference r = ImageReference.parse("busybox");
    assertEquals("docker.io/library/busybox:latest", r.toString());
    assertEquals("busybox:latest", r.familiar());
    assertEquals("busybox:2", r.withTag("2").familiar());
    assertEquals("docker.io/library/busybox:latest@" + D, r.withDigest(D).toString());
    assertEquals(D, r.withDigest(D).reference());
    assertEquals("127.0.0.1:5000/library/busybox:latest", r.withRegistry("127.0.0.1:5000").toString());
    assertEquals("127.0.0.1:5000/shop/web:1", ImageReference.of("127.0.0.1:5000", "shop/web", "1").toString());
  }
}
