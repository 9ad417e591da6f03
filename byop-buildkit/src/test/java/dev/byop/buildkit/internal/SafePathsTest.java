package dev.byop.buildkit.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.BuildException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafePathsTest {
  @Test
  void pathsAreResolvedFollowingLinksAndMustStayInTheCheckout(@TempDir Path tmp) throws Exception {
    Path root = Files.createDirectories(tmp.resolve("job/src")).toRealPath();
    Path outside = Files.createDirectories(tmp.resolve("outside/b"));
    Files.createDirectories(root.resolve("a/real"));
    Files.createSymbolicLink(root.resolve("ctx"), Path.of("../.."));
    Files.createSymbolicLink(root.resolve("a/link"), outside.getParent());
    Files.createSymbolicLink(root.resolve("a/inside"), Path.of("real"));
    Files.writeString(outside.resolve("Dockerfile"), "FROM x\n");
    Files.createSymbolicLink(root.resolve("Dockerfile"), outside.resolve("Dockerfile"));

    BuildException ctx = assertThrows(BuildException.class,
        () -> SafePaths.inside(root, root.resolve("ctx"), "component.contextDir", "ctx"));
    assertEquals("component.contextDir 'ctx' leads outside the checkout through a symbolic link", ctx.getMessage());
    BuildException comp = assertThrows(BuildException.class,
        () -> SafePaths.inside(root, root.resolve("a/link/b"), "component.contextDir", "a/link/b"));
    assertTrue(comp.getMessage().contains("'a/link/b' leads outside"), comp.getMessage());
    BuildException df = assertThrows(BuildException.class,
        () -> SafePaths.inside(root, root.resolve("Dockerfile"), "component.dockerfile", "Dockerfile"));
    assertFalse(df.getMessage().contains(tmp.toString()), "no host path: " + df.getMessage());
    BuildException missing = assertThrows(BuildException.class,
        () -> SafePaths.inside(root, root.resolve("nope/x"), "build.dockerfile", "nope/x"));
    assertEquals("build.dockerfile 'nope/x' does not exist in the checkout", missing.getMessage());
    // a link that stays inside is fine, and gives the real path
    assertEquals(root.resolve("a/real"), SafePaths.inside(root, root.resolve("a/inside"), "f", "a/inside"));
  }

  @Test
  void opensRefuseALinkAnywhereOnThePath(@TempDir Path tmp) throws Exception {
    Path base = tmp.toRealPath();
    Files.createDirectories(base.resolve("d/e"));
    Files.writeString(base.resolve("d/e/f"), "content");
    Files.createSymbolicLink(base.resolve("l"), base.resolve("d"));
    Files.createSymbolicLink(base.resolve("d/fl"), base.resolve("d/e/f"));
    try (SeekableByteChannel c = SafePaths.openFile(base.resolve("d/e/f"))) {
      ByteBuffer b = ByteBuffer.allocate(16);
      assertEquals(7, c.read(b));
    }
    assertTrue(SafePaths.isLinkFreeDirectory(base.resolve("d/e")));
    assertFalse(SafePaths.isLinkFreeDirectory(base.resolve("l/e")), "a directory link on the way");
    assertThrows(IOException.class, () -> SafePaths.openFile(base.resolve("l/e/f")));
    assertThrows(IOException.class, () -> SafePaths.openFile(base.resolve("d/fl")), "a file link at the end");
  }

  @Test
  void theWalkSendsLinksAsLinksAndFailsWhenADirectoryIsSwappedForALink(@TempDir Path tmp) throws Exception {
    Path root = Files.createDirectories(tmp.resolve("ctx")).toRealPath();
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.writeString(outside.resolve("secret"), "s");
    Files.createDirectories(root.resolve("sub"));
    Files.writeString(root.resolve("sub/f"), "f");
    Files.createSymbolicLink(root.resolve("out"), outside);
    List<String> seen = new ArrayList<>();
    new DirWalker(root, List.of(), List.of()).walk(e -> seen.add(e.path()));
    assertEquals(List.of("out", "sub", "sub/f"), seen, "the link is an entry; nothing below it is walked");

    // swapped while the walk is under way: the directory "sub" becomes a link to outside once "out" was seen
    DirWalker w = new DirWalker(root, List.of(), List.of());
    IOException e = assertThrows(IOException.class, () -> w.walk(entry -> {
      if (entry.path().equals("sub")) {
        Files.move(root.resolve("sub"), root.resolve("sub.moved"));
        Files.createSymbolicLink(root.resolve("sub"), outside);
      }
      assertFalse(entry.path().startsWith("sub/secret"), "walked into the link");
    }));
    assertTrue(e.getMessage() != null, String.valueOf(e));
  }
}
