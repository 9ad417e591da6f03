package dev.byop.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.byop.core.Credentials;
import dev.byop.core.Secret;
import org.junit.jupiter.api.Test;

class RedactorTest {
  @Test
  void replacesEverySecretLongestFirst() {
    Redactor r = new Redactor().add(Secret.of("abc")).add(Secret.of("abcdef")).add(Credentials.basic("u", "pw-1"))
        .add(Secret.of(""));
    assertEquals("x ****** y ****** z ****** ******", r.redact("x abcdef y abc z pw-1 pw-1"));
    assertEquals("nothing here", r.redact("nothing here"));
  }

  @Test
  void urlUserInfoIsASecret() {
    Redactor r = new Redactor().addUrlUserInfo("https://bot:tok3n@git.example/x.git")
        .addUrlUserInfo("https://git.example/a@b").addUrlUserInfo("git@host:x.git");
    assertEquals("cloning https://bot:******@git.example/x.git", r.redact("cloning https://bot:tok3n@git.example/x.git"));
    assertEquals("a@b", r.redact("a@b"));
  }
}
