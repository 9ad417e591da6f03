package dev.byop.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.byop.testing.ReadmeSnippets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

/** The README's test-kit snippet is {@link ReadmeShopTest}'s, verbatim (up to indentation), and it passes. */
class ReadmeSnippetTest {
  @Test
  void theReadmeHoldsTheCompiledSnippetVerbatim() {
    String snippet = ReadmeSnippets.region(Path.of("src/test/java/dev/byop/testkit/ReadmeShopTest.java"))
        .replace("static class", "class");
    ReadmeSnippets.assertInReadme(Path.of("../README.md"), "java", snippet);
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
