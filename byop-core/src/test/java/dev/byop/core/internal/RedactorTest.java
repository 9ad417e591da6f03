package dev.byop.core.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.BuildException;
import dev.byop.core.Credentials;
import dev.byop.core.Secret;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
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

  @Test
  void everyLongEnoughLineOfAMultiLineSecretIsMaskedWhereverItIsPrinted() {
    String pem = "-----BEGIN PRIVATE KEY-----\r\n"
        + "  MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
        + "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
        + "Ab12==\n"
        + "}\n"
        + "-----END PRIVATE KEY-----";
    Redactor r = new Redactor().add(Secret.of(pem));
    assertEquals("key: ******", r.redact("key: " + pem), "the whole value");
    assertEquals("#5 ******", r.redact("#5 -----BEGIN PRIVATE KEY-----"));
    assertEquals("#5 0.12 ******", r.redact("#5 0.12 MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"),
        "a line printed without its indentation");
    assertEquals("#5 ******", r.redact("#5 MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu"));
    assertEquals("#5 ******tok", r.redact("#5 -----END PRIVATE KEY-----tok"));
    // lines shorter than MIN_LINE are not patterns: they would mask ordinary text
    assertEquals("{ \"a\": 1 } Ab12==", r.redact("{ \"a\": 1 } Ab12=="));
  }

  @Test
  void basicAuthorizationOfCredentialsIsMasked() {
    Redactor r = new Redactor().add(Credentials.basic("byop", "registry-pw"));
    String header = "Authorization: Basic " + Base64.getEncoder().encodeToString(
        "byop:registry-pw".getBytes(StandardCharsets.UTF_8));
    assertEquals("Authorization: Basic ******", r.redact(header));
  }

  @Test
  void aCopyWithRedactedMessagesGoesToSlf4jOnlyWhenASecretIsInTheChain() {
    Redactor r = new Redactor().addAll(List.of(Secret.of("tok-canary-1")));
    RuntimeException clean = new IllegalStateException("nothing", new BuildException("still nothing"));
    assertSame(clean, r.safe(clean));

    BuildException root = new BuildException("fetch https://ci:tok-canary-1@git.example failed");
    RuntimeException top = new IllegalStateException("wrapped", root);
    top.addSuppressed(new IllegalArgumentException("also tok-canary-1"));
    Throwable safe = r.safe(top);
    StringWriter printed = new StringWriter();
    safe.printStackTrace(new PrintWriter(printed));
    assertFalse(printed.toString().contains("tok-canary-1"), printed.toString());
    assertTrue(printed.toString().startsWith("java.lang.IllegalStateException: wrapped"), printed.toString());
    assertTrue(printed.toString().contains("Caused by: dev.byop.core.BuildException: fetch https://ci:******@git"),
        printed.toString());
    assertTrue(printed.toString().contains("Suppressed: java.lang.IllegalArgumentException: also ******"));
    assertArrayEquals(top.getStackTrace(), safe.getStackTrace());
    assertArrayEquals(root.getStackTrace(), safe.getCause().getStackTrace());
  }

  @Test
  void aRedactorMadeFromAnotherStartsWithItsSecrets() {
    Redactor base = new Redactor().add("from-config");
    Redactor run = new Redactor(base).add("from-the-job");
    assertEquals("****** ******", run.redact("from-config from-the-job"));
    assertEquals("from-the-job", base.redact("from-the-job"));
  }
}
