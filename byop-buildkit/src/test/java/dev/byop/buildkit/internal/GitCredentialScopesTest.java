package dev.byop.buildkit.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.BuildException;
import dev.byop.core.ConfigException;
import dev.byop.core.Credentials;
import dev.byop.core.GitCredentials;
import dev.byop.core.GitSource;
import dev.byop.core.SecretRef;
import dev.byop.core.Settings;
import dev.byop.core.internal.GitUrl;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which credentials a fetch gets, and the askpass helper that answers only for their host. */
class GitCredentialScopesTest {
  private static Settings git(Map<String, ?> m) {
    return Settings.of(Map.of("git", m)).section("git");
  }

  private static Map<String, Object> scope(String match, String token) {
    return Map.of("match", match, "username", "ci", "token", SecretRef.value(token));
  }

  @Test
  void theLongestCoveringPrefixWinsAndOtherHostsGetNothing() {
    GitCredentialScopes s = GitCredentialScopes.from(git(Map.of("credentials", List.of(
        scope("https://git.example.com/", "host-wide"), scope("https://git.example.com/acme/", "acme")))));
    assertEquals("acme", token(s, "https://git.example.com/acme/shop.git"));
    assertEquals("host-wide", token(s, "https://GIT.example.com:443/other/shop.git"));
    assertEquals("host-wide", token(s, "https://git.example.com/acme-evil/shop.git"));
    for (String other : List.of("https://git.example.com.evil.io/acme/x.git", "https://evil.io/git.example.com/acme/",
        "https://git.example.com:8443/acme/x.git", "http://git.example.com/acme/x.git", "file:///git.example.com/acme",
        "ssh://git@git.example.com/acme/x.git", "git://git.example.com/acme/x.git")) {
      assertNull(s.choose("app", GitSource.of(other), null), other);
    }
  }

  @Test
  void anSshKeyIsScopedToItsSshHost() {
    GitCredentialScopes s = GitCredentialScopes.from(git(Map.of("credentials", List.of(
        Map.of("match", "ssh://git.example.com/acme/", "sshKey", "/keys/acme")))));
    assertEquals(Path.of("/keys/acme"), s.choose("app", GitSource.of("git@git.example.com:acme/x.git"), null).sshKey());
    assertNull(s.choose("app", GitSource.of("ssh://git@git.example.com/other/x.git"), null));
    assertNull(s.choose("app", GitSource.of("ssh://git@evil.example.com/acme/x.git"), null));
    assertNull(s.choose("app", GitSource.of("https://git.example.com/acme/x.git"), null));
  }

  @Test
  void theOlderSingleTokenMustNameItsHost() {
    ConfigException e = assertThrows(ConfigException.class, () -> GitCredentialScopes.from(git(Map.of(
        "username", "ci", "token", SecretRef.value("t")))));
    assertTrue(e.getMessage().contains("builder.git.token") || e.getMessage().contains("git.token"), e.getMessage());
    assertTrue(e.getMessage().contains("builder.git.host"), e.getMessage());
    GitCredentialScopes s = GitCredentialScopes.from(git(Map.of("username", "ci", "token", SecretRef.value("t"),
        "host", "git.example.com")));
    assertEquals("t", token(s, "https://git.example.com/x.git"));
    assertNull(s.choose("app", GitSource.of("https://other.example.com/x.git"), null));
    assertThrows(ConfigException.class, () -> GitCredentialScopes.from(git(Map.of("host", "git.example.com"))));
    assertThrows(ConfigException.class, () -> GitCredentialScopes.from(git(Map.of("username", "ci"))));
  }

  @Test
  void badScopesAreConfigErrorsNamingTheKey() {
    for (Map<String, Object> bad : List.of(scope("git.example.com", "t"), scope("https://u:p@git.example.com/", "t"),
        scope("https://git.example.com/../x", "t"), scope("ssh://git.example.com/", "t"),
        Map.<String, Object>of("match", "https://git.example.com/"), scope("https://h/?x", "t"))) {
      ConfigException e = assertThrows(ConfigException.class,
          () -> GitCredentialScopes.from(git(Map.of("credentials", List.of(bad)))), bad.toString());
      assertTrue(e.getMessage().contains("git.credentials[0]"), e.getMessage());
      assertFalse(e.getMessage().contains("p@"), e.getMessage());
    }
  }

  @Test
  void anAppsTokenIsAFileInItsOwnFolderOnly(@TempDir Path tmp) throws Exception {
    Path secrets = Files.createDirectories(tmp.resolve("secrets"));
    Files.createDirectories(secrets.resolve("shop"));
    Files.createDirectories(secrets.resolve("other"));
    Files.writeString(secrets.resolve("shop/git-token"), "shop-token\n");
    Files.writeString(secrets.resolve("other/git-token"), "other-token\n");
    Files.createSymbolicLink(secrets.resolve("shop/link"), secrets.resolve("other/git-token"));
    GitCredentialScopes s = new GitCredentialScopes(List.of(), secrets);
    GitSource src = GitSource.of("https://git.example.com/shop.git");
    GitFetcher.Auth auth = s.choose("shop", src.withCredentials(cred(SecretRef.file(Path.of("git-token")))), null);
    assertEquals("shop-token", auth.token().secret().reveal());
    assertEquals("other-token", s.choose("other", src.withCredentials(cred(SecretRef.file(Path.of("git-token")))),
        null).token().secret().reveal());
    for (SecretRef bad : List.of(SecretRef.env("PATH"), SecretRef.file(Path.of("/etc/passwd")),
        SecretRef.file(Path.of("../other/git-token")), SecretRef.file(Path.of("link")),
        SecretRef.file(Path.of("missing")))) {
      BuildException e = assertThrows(BuildException.class, () -> s.choose("shop", src.withCredentials(cred(bad)),
          null), bad.toString());
      assertFalse(e.getMessage().contains(tmp.toString()), "no absolute host path: " + e.getMessage());
    }
    assertThrows(BuildException.class, () -> new GitCredentialScopes(List.of(), null).choose("shop",
        src.withCredentials(cred(SecretRef.file(Path.of("git-token")))), null));
    // explicit request credentials and a file:// URL
    assertEquals("r", s.choose("shop", src, Credentials.basic("u", "r")).token().secret().reveal());
    assertNull(s.choose("shop", GitSource.of("file:///srv/shop.git"), Credentials.basic("u", "r")));
  }

  @Test
  void askpassAnswersOnlyGitsPromptsForItsOwnOrigin(@TempDir Path tmp) throws Exception {
    Path script = GitFetcher.writeAskpass(tmp);
    Map<String, String> env = GitFetcher.askpassEnv(GitUrl.parse("http://127.0.0.1:8080/r.git").orElseThrow(), "ci",
        "tok-x");
    assertEquals("ci", ask(script, env, "Username for 'http://127.0.0.1:8080': "));
    assertEquals("tok-x", ask(script, env, "Password for 'http://ci@127.0.0.1:8080': "));
    for (String foreign : List.of("Username for 'http://127.0.0.1:9090': ", "Password for 'http://ci@127.0.0.1:9090': ",
        "Password for 'http://ci@127.0.0.1:8080.evil': ", "Password for 'https://ci@127.0.0.1:8080': ",
        "Password: ", "")) {
      assertEquals("<exit 1>", ask(script, env, foreign), foreign);
    }
  }

  private static String ask(Path script, Map<String, String> env, String prompt) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(script.toString(), prompt));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    return p.exitValue() == 0 ? out : "<exit " + p.exitValue() + ">";
  }

  private static GitCredentials cred(SecretRef token) {
    return GitCredentials.of("ci", token);
  }

  private static String token(GitCredentialScopes s, String url) {
    GitFetcher.Auth a = s.choose("app", GitSource.of(url), null);
    return a == null ? null : a.token().secret().reveal();
  }
}
