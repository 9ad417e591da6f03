package dev.byop.examples;

import dev.byop.testing.ReadmeSnippets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's embedding snippet is the compiled one in {@link QuickStartSnippet}, verbatim (up to indentation). */
class QuickStartSnippetTest {
  @Test
  void theReadmeHoldsTheCompiledSnippetVerbatim() {
    String snippet = ReadmeSnippets.region(Path.of("src/test/java/dev/byop/examples/QuickStartSnippet.java"));
    ReadmeSnippets.assertInReadme(Path.of("../README.md"), "java", snippet);
  }
}
