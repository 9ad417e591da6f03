package dev.byop.buildkit.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.buildkit.internal.proto.Stat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirWalkerTest {
  @Test
  void goFileModes() {
    assertEquals(0x80000000 | 0755, GoFileMode.fromUnix(040755));
    assertEquals(0644, GoFileMode.fromUnix(0100644));
    assertEquals((1 << 27) | 0777, GoFileMode.fromUnix(0120777));
    assertEquals((1 << 23) | 0755, GoFileMode.fromUnix(0104755));
    assertEquals(0x80000000 | (1 << 20) | 0777, GoFileMode.fromUnix(041777));
    assertEquals((1 << 25) | 0600, GoFileMode.fromUnix(010600));
  }

  @Test
  void walksDepthFirstSortedBytewiseParentsFirst(@TempDir Path root) throws Exception {
    for (String d : List.of("a", "a/x", "empty")) {
      Files.createDirectories(root.resolve(d));
    }
    for (String f : List.of("b", "a.txt", "A", "é", "z", "a/x/f", "a/y")) {
      Files.writeString(root.resolve(f), f);
    }
    Files.setPosixFilePermissions(root.resolve("z"), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createSymbolicLink(root.resolve("link"), Path.of("a/y"));
    List<Stat> seen = new ArrayList<>();
    new DirWalker(root, List.of(), List.of()).walk(e -> seen.add(e.stat()));
    assertEquals(List.of("A", "a", "a/x", "a/x/f", "a/y", "a.txt", "b", "empty", "link", "z", "é"),
        seen.stream().map(Stat::getPath).toList());
    Stat a = seen.get(1);
    assertEquals(GoFileMode.DIR, a.getMode() & GoFileMode.DIR);
    assertEquals(0, a.getSize());
    Stat link = seen.get(8);
    assertEquals(GoFileMode.SYMLINK | 0777, link.getMode());
    assertEquals("a/y", link.getLinkname());
    assertEquals(0755, seen.get(9).getMode());
    assertEquals(1, seen.get(9).getSize());
    assertEquals(Files.getLastModifiedTime(root.resolve("z")).toInstant().getEpochSecond(),
        seen.get(9).getModTime() / 1_000_000_000L);
  }

  @Test
  void excludesWithReincludeEmitParentsLazily(@TempDir Path root) throws Exception {
    Files.createDirectories(root.resolve("dir/sub"));
    Files.writeString(root.resolve("dir/keep"), "k");
    Files.writeString(root.resolve("dir/drop"), "d");
    Files.writeString(root.resolve("dir/sub/drop"), "d");
    Files.writeString(root.resolve("top"), "t");
    List<String> seen = new ArrayList<>();
    new DirWalker(root, List.of(), List.of("dir", "!dir/keep")).walk(e -> seen.add(e.path()));
    assertEquals(List.of("dir", "dir/keep", "top"), seen);

    List<String> inc = new ArrayList<>();
    new DirWalker(root, List.of("dir/sub/drop", "top"), List.of()).walk(e -> inc.add(e.path()));
    assertEquals(List.of("dir", "dir/sub", "dir/sub/drop", "top"), inc);
  }

  @Test
  void aContextNestedWithoutEndFailsInsteadOfHoldingADirectoryPerLevel(@TempDir Path root) throws Exception {
    Path d = root;
    for (int i = 0; i <= DirWalker.MAX_DEPTH; i++) {
      d = d.resolve("d");
    }
    Files.createDirectories(d);
    java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
        () -> new DirWalker(root, List.of(), List.of()).walk(x -> { }));
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("deeper than 256"), e.getMessage());
  }

  @Test
  void sendsWhatTheDockerCliSendsOwnersZeroHardLinksXattrsSockets(@TempDir Path root) throws Exception {
    Files.writeString(root.resolve("a"), "hard");
    Files.createLink(root.resolve("b"), root.resolve("a"));
    Files.createDirectories(root.resolve("d"));
    Files.createLink(root.resolve("d/c"), root.resolve("a"));
    Files.writeString(root.resolve("owned"), "o");
    Files.setAttribute(root.resolve("owned"), "unix:uid", 12345);
    Files.setAttribute(root.resolve("owned"), "unix:gid", 1000);
    java.nio.file.attribute.UserDefinedFileAttributeView x = Files.getFileAttributeView(root.resolve("owned"),
        java.nio.file.attribute.UserDefinedFileAttributeView.class);
    x.write("k", java.nio.ByteBuffer.wrap(new byte[] {1, 2}));
    try (java.nio.channels.ServerSocketChannel s = java.nio.channels.ServerSocketChannel.open(
        java.net.StandardProtocolFamily.UNIX)) {
      s.bind(java.net.UnixDomainSocketAddress.of(root.resolve("sock")));
    }
    Files.writeString(root.resolve("zzz"), "second inode");
    Files.createLink(root.resolve("zzz2"), root.resolve("zzz"));
    List<DirWalker.Entry> seen = new ArrayList<>();
    // the first name of the second inode is excluded: the next one sent carries the content
    new DirWalker(root, List.of(), List.of("zzz")).walk(seen::add);
    Map<String, DirWalker.Entry> by = new java.util.HashMap<>();
    seen.forEach(e -> by.put(e.path(), e));
    assertEquals(List.of("a", "b", "d", "d/c", "owned", "sock", "zzz2"), seen.stream().map(DirWalker.Entry::path)
        .toList());
    for (DirWalker.Entry e : seen) {
      assertEquals(0, e.stat().getUid(), e.path());
      assertEquals(0, e.stat().getGid(), e.path());
    }
    assertEquals("", by.get("a").stat().getLinkname());
    assertEquals(4, by.get("a").stat().getSize());
    assertTrue(by.get("a").isRegular());
    for (String l : List.of("b", "d/c")) {
      assertEquals("a", by.get(l).stat().getLinkname(), l);
      assertEquals(0, by.get(l).stat().getSize(), l);
      assertEquals(0644, by.get(l).stat().getMode() & 0777, l);
      org.junit.jupiter.api.Assertions.assertFalse(by.get(l).isRegular(), l);
    }
    assertEquals("", by.get("zzz2").stat().getLinkname());
    assertEquals(com.google.protobuf.ByteString.copyFrom(new byte[] {1, 2}),
        by.get("owned").stat().getXattrsMap().get("user.k"));
    DirWalker.Entry sock = by.get("sock");
    assertEquals(0, sock.stat().getMode() & ~0777, "a socket is sent as a regular file");
    assertEquals(0, sock.stat().getSize());
    assertTrue(sock.isRegular());
    org.junit.jupiter.api.Assertions.assertFalse(sock.readable());
  }

  @Test
  void excludedDirectoriesAsTheModernCliDecides(@TempDir Path root) throws Exception {
    for (String f : List.of("skipped/keep", "named/other", "tmp/z", "x/tmp/y")) {
      Files.createDirectories(root.resolve(f).getParent());
      Files.writeString(root.resolve(f), f);
    }
    List<String> seen = new ArrayList<>();
    new DirWalker(root, List.of(), List.of("skipped", "!**/keep", "named", "!named/absent", "**/tmp"))
        .walk(e -> seen.add(e.path()));
    // a wildcard exception reaches into an excluded directory, a directory is sent only with something in it, and a
    // pattern matching any parent excludes (moby's MatchesOrParentMatches, as buildx's fsutil sends)
    assertEquals(List.of("skipped", "skipped/keep", "x"), seen);
  }
}
