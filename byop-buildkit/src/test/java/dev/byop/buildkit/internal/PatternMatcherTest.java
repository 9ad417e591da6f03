package dev.byop.buildkit.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class PatternMatcherTest {
  @Test
  void dockerignoreSemantics() {
    PatternMatcher m = new PatternMatcher(List.of("*.log", "!keep.log", "node_modules", "docs/*.md", "**/*.tmp",
        "./build/../out", "# not special here", ""));
    assertTrue(m.matches("a.log"));
    assertFalse(m.matches("keep.log"));
    assertFalse(m.matches("dir/a.log"), "*.log is anchored at the context root");
    assertTrue(m.matches("node_modules"));
    assertTrue(m.matches("node_modules/pkg/index.js"), "a matched directory covers its contents");
    assertTrue(m.matches("docs/a.md"));
    assertFalse(m.matches("docs/sub/a.md"));
    assertTrue(m.matches("x.tmp"));
    assertTrue(m.matches("a/b/c/x.tmp"));
    assertTrue(m.matches("out/file"));
    assertFalse(m.matches("build/x"));
    assertTrue(m.hasExclusions());
  }

  @Test
  void laterPatternsWinAndCharacterClasses() {
    PatternMatcher m = new PatternMatcher(List.of("dir", "!dir/keep", "file[0-9].txt", "?.c"));
    assertTrue(m.matches("dir/other"));
    assertFalse(m.matches("dir/keep"));
    assertTrue(m.matches("file3.txt"));
    assertFalse(m.matches("filex.txt"));
    assertTrue(m.matches("a.c"));
    assertFalse(m.matches("ab.c"));
  }

  @Test
  void cleanAndRegex() {
    assertEquals("b", PatternMatcher.clean("./a/../b"));
    assertEquals(".", PatternMatcher.clean("./"));
    assertEquals("a/b", PatternMatcher.clean("/a//b/"));
    assertTrue(new PatternMatcher(List.of("a.b")).matches("a.b"));
    assertFalse(new PatternMatcher(List.of("a.b")).matches("axb"), "dots are literal");
  }

  @Test
  void includePrefixes() {
    PatternMatcher m = new PatternMatcher(List.of("sub/dir/Dockerfile"));
    assertTrue(m.couldMatchBelow("sub"));
    assertTrue(m.couldMatchBelow("sub/dir"));
    assertFalse(m.couldMatchBelow("other"));
    assertTrue(new PatternMatcher(List.of("**/x")).couldMatchBelow("any/where"));
  }

  @Test
  void globstarEscapesAndClassesAsMobyTranslatesThem() {
    PatternMatcher m = new PatternMatcher(List.of("a/**/b", "**", "!keep/**"));
    assertTrue(m.matches("anything/at/all"));
    assertFalse(m.matches("keep/x"));
    PatternMatcher d = new PatternMatcher(List.of("a/**/b"));
    assertTrue(d.matches("a/b"), "**/ matches zero directories");
    assertTrue(d.matches("a/x/y/b"));
    assertFalse(d.matches("a/xb"));
    assertTrue(new PatternMatcher(List.of("src/**")).matches("src/deep/er/file"));
    assertTrue(new PatternMatcher(List.of("/lead")).matches("lead"), "a leading / is dropped");
    assertTrue(new PatternMatcher(List.of("\\*")).matches("*"));
    assertFalse(new PatternMatcher(List.of("\\*")).matches("x"));
    assertTrue(new PatternMatcher(List.of("[^a]b")).matches("xb"));
    assertFalse(new PatternMatcher(List.of("[^a]b")).matches("ab"));
    assertTrue(new PatternMatcher(List.of("[a\\]]")).matches("]"));
    assertFalse(new PatternMatcher(List.of("a*b")).matches("a/b"), "* stays in one component");
    assertTrue(new PatternMatcher(List.of("a?c")).matches("abc"));
    assertFalse(new PatternMatcher(List.of("a?c")).matches("a/c"));
    assertTrue(new PatternMatcher(List.of("*")).matches("x/y"), "a matched directory covers what is below");
  }

  @Test
  void malformedPatternsAreClearErrors() {
    PatternMatcher.BadPatternException e = assertThrows(PatternMatcher.BadPatternException.class,
        () -> new PatternMatcher(List.of("ok", "[z-a]")));
    assertTrue(e.getMessage().contains("[z-a]") && e.getMessage().contains("reversed"), e.getMessage());
    assertThrows(PatternMatcher.BadPatternException.class, () -> new PatternMatcher(List.of("[abc")));
    assertThrows(PatternMatcher.BadPatternException.class, () -> new PatternMatcher(List.of("a\\")));
    assertThrows(PatternMatcher.BadPatternException.class, () -> new PatternMatcher(List.of("[]")));

    assertEquals(".dockerignore line 4: pattern '[z-a]' is malformed: range 'z-a' is reversed",
        PatternMatcher.checkIgnoreFile("# [z-a] in a comment is fine\n\nnode_modules\n  [z-a]  \n*.log\n"));
    assertTrue(PatternMatcher.checkIgnoreFile("ok\n![x\n").startsWith(".dockerignore line 2: pattern '[x'"));
    assertNull(PatternMatcher.checkIgnoreFile("\uFEFF*.md\n!README.md\n**/tmp\n"));
  }

  @Test
  void matchingTimeIsLinearNotExponential() {
    String pattern = "*a".repeat(12) + "*b";
    PatternMatcher m = new PatternMatcher(List.of(pattern, "**/" + pattern));
    String name = "a".repeat(20_000);
    String deep = ("a".repeat(50) + "/").repeat(200) + name;
    long t0 = System.nanoTime();
    assertFalse(m.matches(name));
    assertFalse(m.matches(deep));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    // a backtracking regex does not finish this in hours; the automaton takes milliseconds
    assertTrue(ms < 5_000, ms + " ms");
    assertTrue(m.matches(name + "b"));
  }
}
