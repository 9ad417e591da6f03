package dev.byop.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class GitSourceTest {

  @ParameterizedTest
  @ValueSource(strings = {"https://example.org/shop.git", "ssh://git@example.org:2222/shop.git",
      "git://127.0.0.1/shop.git", "git@example.org:team/shop.git", "example.org:shop.git", "file:///srv/git/shop.git",
      "http://127.0.0.1:9418/shop.git", "https://user:tok@example.org/shop.git"})
  void acceptsOrdinaryUrls(String url) {
    assertEquals(url, GitSource.of(url).url());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      --upload-pack=touch /tmp/pwned                | must not start with '-'
      -uevil                                        | must not start with '-'
      --config=core.sshCommand=sh                   | must not start with '-'
      ext::sh -c touch% /tmp/pwned                  | whitespace
      ext::sh                                       | remote-helper transports
      fd::17                                        | remote-helper transports
      transport::whatever                           | remote-helper transports
      javascript://x                                | transport 'javascript'
      ftp://host/repo                               | transport 'ftp'
      https://-oProxyCommand=x/repo                 | must name a host
      ssh://-oProxyCommand=calc/repo                | must name a host
      file://relative/path                          | absolute path
      https:///nohost                               | must name a host
      not a url                                     | whitespace
      just-a-word                                   | must be a URL
      """)
  void rejectsInjectionAndDangerousTransports(String url, String rule) {
    var e = assertThrows(ValidationException.class, () -> GitSource.of(url));
    assertTrue(e.getMessage().contains(rule), e.getMessage());
    assertEquals("git.url", e.field());
  }

  @Test
  void rejectsControlCharactersAndBlank() {
    assertThrows(ValidationException.class, () -> GitSource.of("https://h/r\n--upload-pack=x"));
    assertThrows(ValidationException.class, () -> GitSource.of(" "));
  }

  @Test
  void policyDecidesFileAndHttp() {
    GitSource file = GitSource.of("file:///srv/git/shop.git");
    GitSource http = GitSource.of("http://127.0.0.1/shop.git");
    var e = assertThrows(ValidationException.class, () -> GitSource.Policy.DEFAULT.check(file));
    assertTrue(e.getMessage().contains("git.allowFile"), e.getMessage());
    assertThrows(ValidationException.class, () -> GitSource.Policy.DEFAULT.check(http));
    GitSource.Policy.PERMISSIVE.check(file);
    GitSource.Policy.PERMISSIVE.check(http);
    GitSource.Policy.DEFAULT.check(GitSource.of("https://example.org/x.git"));
    GitSource.Policy.DEFAULT.check(GitSource.of("git@example.org:x.git"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"-b", "--orphan", "a..b", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[", "a\\b", "a/", "/a",
      "a.lock", "a@{1}", "@", "a//b", ""})
  void rejectsBadRefs(String ref) {
    assertThrows(ValidationException.class, () -> new GitSource("https://h/r.git", ref, null));
  }

  @Test
  void acceptsRefsAndCommits() {
    GitSource s = new GitSource("https://h/r.git", "feature/new-ui", "0123abc");
    assertEquals("0123abc", s.revision());
    assertEquals("feature/new-ui", s.withCommit("0123abcd").ref());
    assertEquals("HEAD", GitSource.of("https://h/r.git").revision());
    assertThrows(ValidationException.class, () -> new GitSource("https://h/r.git", null, "XYZ"));
    assertThrows(ValidationException.class, () -> new GitSource("https://h/r.git", null, "abc"));
  }

  @Test
  void tokensNeverShow() {
    GitSource s = GitSource.of("https://user:s3cr3t-token@example.org/shop.git");
    assertFalse(s.toString().contains("s3cr3t"), s.toString());
    assertFalse(s.redactedUrl().contains("s3cr3t"));
    var e = assertThrows(ValidationException.class, () -> GitSource.of("https://user:s3cr3t@-evil/x"));
    assertFalse(e.getMessage().contains("s3cr3t"), e.getMessage());
  }
}
