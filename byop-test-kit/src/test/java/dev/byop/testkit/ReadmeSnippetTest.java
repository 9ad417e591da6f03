package dev.byop.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

/** The README's test-kit snippet is {@link ReadmeShopTest}'s, verbatim (up to indentation), and it passes. */
class ReadmeSnippetTest {
  static String snippet() throws IOException {
    List<String> lines = Files.readAllLines(Path.of("src/test/java/dev/byop/testkit/ReadmeShopTest.java"),
        StandardCharsets.UTF_8);
    int start = -1;
    int end = -1;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).strip().equals("// README:start")) start = i + 1;
      if (lines.get(i).strip().equals("// README:end")) end = i;
    }
    assertTrue(start > 0 && end > start, "markers // README:start and // README:end");
    List<String> region = lines.subList(start, end);
    int indent = region.stream().filter(l -> !l.isBlank())
        .mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
    StringBuilder b = new StringBuilder();
    for (String l : region) b.append(l.isBlank() ? "" : l.substring(indent)).append('\n');
    return b.toString();
  }

  @Test
  void theReadmeHoldsTheCompiledSnippetVerbatim() throws IOException {
    String readme = Files.readString(Path.of("../README.md"), StandardCharsets.UTF_8);
    String snippet = snippet().replace("static class", "class");
    assertTrue(readme.contains("```java\n" + snippet + "```"),
        "README.md must hold this snippet in a ```java block, verbatim:\n" + snippet);
  }

  @Test
  void theSnippetPasses() {
    SummaryGeneratingListener summary = new SummaryGeneratingListener();
    LauncherFactory.create().execute(request().selectors(selectClass(ReadmeShopTest.ShopBuildTest.class)).build(),
        summary);
    assertEquals(1, summary.getSummary().getTestsSucceededCount(), () -> {
      StringBuilder b = new StringBuilder();
      summary.getSummary().getFailures().forEach(f -> b.append(f.getException()).append('\n'));
      return b.toString();
    });
  }
}
