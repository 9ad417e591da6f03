package dev.byop.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Keeps the README's code blocks true: a snippet lives in a compiled source file between {@code // README:start} and
 * {@code // README:end}, and a test checks that the README holds it verbatim (up to indentation).
 */
public final class ReadmeSnippets {
  private ReadmeSnippets() {}

  /** The lines of {@code source} between the markers, with their common indentation removed. */
  public static String region(Path source) {
    List<String> lines;
    try {
      lines = Files.readAllLines(source, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int start = -1;
    int end = -1;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).strip().equals("// README:start")) start = i + 1;
      if (lines.get(i).strip().equals("// README:end")) end = i;
    }
    assertTrue(start > 0 && end > start, "markers // README:start and // README:end in " + source);
    List<String> region = lines.subList(start, end);
    int indent = region.stream().filter(l -> !l.isBlank())
        .mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
    StringBuilder b = new StringBuilder();
    for (String l : region) b.append(l.isBlank() ? "" : l.substring(indent)).append('\n');
    return b.toString();
  }

  /** Fails unless {@code readme} holds {@code snippet} as a fenced block of {@code language}. */
  public static void assertInReadme(Path readme, String language, String snippet) {
    String text;
    try {
      text = Files.readString(readme, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    assertTrue(text.contains("```" + language + "\n" + snippet + "```"),
        readme + " must hold this snippet in a ```" + language + " block, verbatim:\n" + snippet);
  }
}
