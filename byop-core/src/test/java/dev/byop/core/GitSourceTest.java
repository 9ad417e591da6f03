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
      "http://127.0.0.1:9418/shop.git", "ssh://git@[::1]:22/shop.git", "HTTPS://Example.org/shop.git"})
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

  @ParameterizedTest
  @ValueSource(strings = {"https://u:tok-Z9@h/r.git", "HTTPS://u:tok-Z9@h/r.git", "https://tok-Z9@h/r.git",
      "http://u:tok-Z9@h/r.git", "https://u:a@tok-Z9@h/r.git", "https://u:tok-Z9%40x+y@h/r.git",
      "https://u:p/tok-Z9@h/r.git", "ssh://u:tok-Z9@h/r.git", "git://u:tok-Z9@h/r.git", "u:tok-Z9@h:r.git",
      "https://h:443@tok-Z9@evil.example/r.git"})
  void refusesAPasswordOrTokenInTheUrlWithoutShowingIt(String url) {
    var e = assertThrows(ValidationException.class, () -> GitSource.of(url));
    assertEquals("git.url", e.field());
    assertFalse(e.getMessage().contains("tok-Z9"), e.getMessage());
    assertFalse(String.valueOf(e.value()).contains("tok-Z9"), e.value());
    assertTrue(e.getMessage().contains("credentials") || e.getMessage().contains("host"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"https://h/acme/../evil/r.git", "https://h/acme/%2e%2e/evil/r.git", "https://h/a%2Fb/r.git",
      "https://h\\@evil/r.git", "https://h_x/r.git", "https://h:99999/r.git", "https://h/./r.git"})
  void refusesHostsAndPathsThatCredentialsCouldNotBeMatchedOn(String url) {
    assertThrows(ValidationException.class, () -> GitSource.of(url));
  }

  @Test
  void redactionMasksTheWholeUserInfoOfEveryUrlInALine() {
    assertEquals("fatal: 'https://***@h/r.git' and ssh://***@h2/x", GitSource.redact(
        "fatal: 'https://u:p@ss/w@h/r.git' and ssh://u:p%40w@h2/x"));
    assertEquals("***@h:r.git", GitSource.redact("u:p@ss@h:r.git"));
    assertEquals("git@h:r.git", GitSource.redact("git@h:r.git"));
  }

  @Test
  void credentialsAreReferencesForHttpsSourcesOnly() {
    GitCredentials c = GitCredentials.of("ci", SecretRef.file(java.nio.file.Path.of("git-token")));
    GitSource s = GitSource.of("https://h/r.git").withCredentials(c).withRef("main").withCommit("0123abc");
    assertEquals(c, s.credentials());
    assertFalse(s.toString().contains("Secret["), s.toString());
    assertThrows(ValidationException.class, () -> GitSource.of("ssh://git@h/r.git").withCredentials(c));
    assertThrows(ValidationException.class, () -> GitCredentials.of("u:x", SecretRef.file(java.nio.file.Path.of("t"))));
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
    var refused = assertThrows(ValidationException.class,
        () -> GitSource.of("https://user:s3cr3t-token@example.org/shop.git"));
    assertFalse(refused.getMessage().contains("s3cr3t"), refused.getMessage());
    var e = assertThrows(ValidationException.class, () -> GitSource.of("https://user:s3cr3t@-evil/x"));
    assertFalse(e.getMessage().contains("s3cr3t"), e.getMessage());
  }
}
