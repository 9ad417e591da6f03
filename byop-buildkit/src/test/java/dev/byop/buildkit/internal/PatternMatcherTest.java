package dev.byop.buildkit.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
}
