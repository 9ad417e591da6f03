package dev.byop.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class GitUrlTest {
  private static GitUrl url(String s) {
    return GitUrl.parse(s).orElseThrow(() -> new AssertionError("not parsed: " + s));
  }

  @Test
  void normalisesSchemeHostAndDefaultPort() {
    GitUrl u = url("HTTPS://ci@Git.Example.COM:443/Acme/Shop.git");
    assertEquals("https", u.scheme());
    assertEquals("ci", u.user());
    assertEquals("git.example.com", u.host());
    assertEquals(443, u.port());
    assertEquals("/Acme/Shop.git", u.path());
    assertEquals("https://git.example.com", u.origin());
    assertEquals("https://git.example.com/Acme/Shop.git", u.withoutUserInfo());
    assertEquals("http://127.0.0.1:8080", url("http://127.0.0.1:8080/r.git").origin());
    assertEquals("ssh://h", url("git@h:acme/r.git").origin());
    assertEquals("/acme/r.git", url("git@h:acme/r.git").path());
    assertEquals("[::1]", url("ssh://git@[::1]:2222/r.git").host());
    assertEquals(2222, url("ssh://git@[::1]:2222/r.git").port());
  }

  @ParameterizedTest(name = "{0} under {1}: {2}")
  @CsvSource(delimiter = '|', textBlock = """
      https://host/acme/r.git               | https://host/             | true
      https://host/acme/r.git               | https://host              | true
      https://HOST:443/acme/r.git           | https://host/acme/        | true
      https://host/acme/r.git               | https://host/acme         | true
      https://host/acme                     | https://host/acme/        | true
      https://host/acme-evil/r.git          | https://host/acme         | false
      https://host/acmeevil/r.git           | https://host/acme/        | false
      https://host/r.git                    | https://host/acme/        | false
      https://host.evil.com/acme/r.git      | https://host/             | false
      https://evilhost/acme/r.git           | https://host/             | false
      https://host@evil/acme/r.git          | https://host/             | false
      https://host:443@evil/acme/r.git      | https://host/             | false
      https://host:8443/acme/r.git          | https://host/             | false
      http://host/acme/r.git                | https://host/             | false
      https://host/acme/r.git               | http://host/              | false
      ssh://git@host/acme/r.git             | ssh://host/               | true
      git@host:acme/r.git                   | ssh://host/acme/          | true
      git@host.evil:acme/r.git              | ssh://host/               | false
      ssh://git@host/acme/r.git             | https://host/             | false
      """)
  void scopesByOriginAndWholePathSegments(String candidate, String prefix, boolean under) {
    assertEquals(under, url(candidate).isUnder(url(prefix)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"file:///srv/r.git", "ftp://h/r", "https://h\\@evil/r", "https://h%2eevil/r",
      "https://h/acme/../evil/r.git", "https://h/acme/%2E%2E/evil/r.git", "https://h/acme/%2Fevil", "https://h:0/r",
      "https://h:65536/r", "https://h:x/r", "https:///r", "https://-h/r", "u:p@h:r.git", "/srv/r.git",
      "https://h_1/r"})
  void givesNothingForWhatCannotBePlacedOnAHost(String s) {
    assertTrue(GitUrl.parse(s).isEmpty(), s);
  }

  @Test
  void theUserInfoIsNeverPartOfTheUrlGitGets() {
    GitUrl u = url("https://u:p%40ss@host/r.git");
    assertEquals("https://host/r.git", u.withoutUserInfo());
    assertFalse(u.toString().contains("p%40ss"));
  }
}
