package dev.byop.buildkit.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.BuildException;
import dev.byop.core.GitSource;
import dev.byop.core.ValidationException;
import dev.byop.core.spi.Cancellation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The git CLI fetcher against local repositories (file://); no test bed needed. */
class GitFetcherTest {
  static String git(Path dir, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, cmd + ": " + out);
    return out.trim();
  }

  @Test
  void fetchesRefsCommitsShortIdsThroughTheCacheKeepingUnchangedMtimes(@TempDir Path tmp) throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    Files.createDirectories(repo.resolve("app"));
    Files.writeString(repo.resolve("app/a.txt"), "a1");
    Files.writeString(repo.resolve("app/b.txt"), "b1");
    git(repo, "init", "-q", "-b", "main");
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "one");
    String c1 = git(repo, "rev-parse", "HEAD");
    GitFetcher f = new GitFetcher(tmp.resolve("cache"), tmp.resolve("jobs"), GitSource.Policy.PERMISSIVE, null, null,
        "git");
    GitSource src = GitSource.of("file://" + repo).withRef("main");
    List<String> log = new CopyOnWriteArrayList<>();
    GitFetcher.Checkout one = f.fetch("job-1", src, null, "app", null, log::add, Cancellation.none());
    assertEquals(c1, one.commit());
    assertEquals("a1", Files.readString(one.contextDir().resolve("a.txt")));
    assertFalse(Files.exists(one.directory().resolve(".git")));
    FileTime bTime = Files.getLastModifiedTime(one.contextDir().resolve("b.txt"));

    Files.writeString(repo.resolve("app/a.txt"), "a2");
    git(repo, "commit", "-q", "-am", "two");
    String c2 = git(repo, "rev-parse", "HEAD");
    Thread.sleep(20); // mtimes must visibly differ for a rewritten file
    GitFetcher.Checkout two = f.fetch("job-2", src, c2, "app", null, log::add, Cancellation.none());
    assertEquals(c2, two.commit());
    assertEquals("a2", Files.readString(two.contextDir().resolve("a.txt")));
    assertEquals(bTime, Files.getLastModifiedTime(two.contextDir().resolve("b.txt")),
        "an unchanged file keeps its mtime, so the next context upload skips it");
    assertEquals("a1", Files.readString(one.contextDir().resolve("a.txt")), "an older job dir is untouched");

    GitFetcher.Checkout shortId = f.fetch("job-3", src, c1.substring(0, 10), "app", null, log::add,
        Cancellation.none());
    assertEquals(c1, shortId.commit());

    BuildException missing = assertThrows(BuildException.class,
        () -> f.fetch("job-4", src, "no-such-branch", ".", null, log::add, Cancellation.none()));
    assertTrue(missing.getMessage().contains("git"), missing.getMessage());
    BuildException noCtx = assertThrows(BuildException.class,
        () -> f.fetch("job-5", src, null, "nope", null, log::add, Cancellation.none()));
    assertTrue(noCtx.getMessage().contains("'nope'"), noCtx.getMessage());
    assertThrows(ValidationException.class,
        () -> f.fetch("../escape", src, null, ".", null, log::add, Cancellation.none()));
    GitFetcher strict = new GitFetcher(tmp.resolve("cache"), tmp.resolve("jobs"), GitSource.Policy.DEFAULT, null,
        null, "git");
    assertThrows(ValidationException.class,
        () -> strict.fetch("job-6", src, null, ".", null, log::add, Cancellation.none()));
    GitFetcher.deleteTree(one.directory().getParent());
    assertFalse(Files.exists(one.directory()));
  }

  @Test
  void tokensGoThroughAskpassNotTheLog(@TempDir Path tmp) throws Exception {
    // no https server here: the fetch fails, but the token must appear nowhere in what it reports
    GitFetcher f = new GitFetcher(tmp.resolve("cache"), tmp.resolve("jobs"), GitSource.Policy.PERMISSIVE, null, null,
        "git");
    List<String> log = new CopyOnWriteArrayList<>();
    GitSource src = GitSource.of("https://127.0.0.1:1/repo.git");
    BuildException e = assertThrows(BuildException.class, () -> f.fetch("job-1", src, "main", ".",
        dev.byop.core.Credentials.basic("u", "tok-123456"), log::add, Cancellation.none()));
    String all = String.join("\n", log) + e.getMessage() + e.logTail();
    assertFalse(all.contains("tok-123456"), all);
    try (var files = Files.walk(tmp.resolve("cache"))) {
      for (Path p : files.filter(Files::isRegularFile).toList()) {
        assertFalse(Files.readString(p, java.nio.charset.StandardCharsets.ISO_8859_1).contains("tok-123456"), p.toString());
      }
    }
  }
}
