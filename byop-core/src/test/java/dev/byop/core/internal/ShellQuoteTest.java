package dev.byop.core.internal;

import dev.byop.testing.ShellWords;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class ShellQuoteTest {


  @Test
  void literalForms() {
    assertEquals("''", ShellQuote.quote(""));
    assertEquals("'abc'", ShellQuote.quote("abc"));
    assertEquals("'it'\\''s'", ShellQuote.quote("it's"));
    assertEquals("''\\'''", ShellQuote.quote("'"));
    assertEquals("'$(x)'", ShellQuote.quote("$(x)"));
    assertEquals("'a\nb'", ShellQuote.quote("a\nb"));
    assertEquals("'docker' 'image' 'inspect' 'a b'", ShellQuote.command("docker", "image", "inspect", "a b"));
  }

  @Test
  void refusesNulAndEmptyCommand() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ShellQuote.quote("a\0b"));
    assertEquals(true, e.getMessage().contains("NUL"));
    assertThrows(IllegalArgumentException.class, () -> ShellQuote.command(List.of()));
  }

  /** The quoted word, parsed by a real POSIX shell (dash as /bin/sh, and bash), yields exactly the word. */
  @ParameterizedTest
  @MethodSource("dev.byop.testing.ShellWords#words")
  void realShellsSeeExactlyTheWord(String word) throws Exception {
    for (String shell : List.of("/bin/sh", "/bin/bash")) {
      if (!Files.isExecutable(Path.of(shell))) {
        continue;
      }
      // the line is built only by the function under test, from the fixed vectors above
      String line = "printf '%s\\0' " + ShellQuote.quote(word) + " " + ShellQuote.quote("end");
      assertEquals(List.of(word, "end"), runShell(shell, line), shell + " on " + ShellQuote.quote(word));
    }
    assertEquals(false, Files.exists(Path.of("/tmp/byop-ssh-pwned")), "a substitution ran");
  }

  @Test
  void wholeArgumentListSurvives() throws Exception {
    List<String> all = ShellWords.words().toList();
    List<String> argv = new ArrayList<>();
    argv.add("printf");
    argv.add("%s\\0");
    argv.addAll(all);
    assertEquals(all, runShell("/bin/sh", ShellQuote.command(argv)));
  }

  private static List<String> runShell(String shell, String line) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(List.of(shell, "-c", line)).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    p.getInputStream().transferTo(out);
    if (!p.waitFor(10, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("shell did not finish");
    }
    assertEquals(0, p.exitValue(), "shell exit for " + line);
    String s = out.toString(StandardCharsets.UTF_8);
    List<String> parts = new ArrayList<>(List.of(s.split("\0", -1)));
    parts.remove(parts.size() - 1); // after the final NUL
    return parts;
  }
}
