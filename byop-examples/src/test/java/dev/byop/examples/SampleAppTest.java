package dev.byop.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.App;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleAppTest {
  @TempDir Path dir;

  @Test
  void theRepositoryIsCreatedOnceAndReusedWhileTheShippedFilesAreUnchanged() throws Exception {
    SampleApp.Repo first = SampleApp.ensureRepository(dir.resolve("data"));
    assertFalse(first.reused());
    assertTrue(first.commit().matches("[0-9a-f]{40}"), first.commit());

    SampleApp.Repo second = SampleApp.ensureRepository(dir.resolve("data"));
    assertTrue(second.reused());
    assertEquals(first.commit(), second.commit());

    // The commit holds every shipped file, CGI scripts executable.
    Commands.Result tree = Commands.run(List.of("git", "--git-dir=" + first.gitDir(), "ls-tree", "-r", "HEAD"), dir,
        Duration.ofSeconds(30));
    assertTrue(tree.ok(), tree.output());
    for (String f : SampleApp.files()) assertTrue(tree.output().contains("\t" + f), f + " in\n" + tree.output());
    assertTrue(tree.output().contains("100755 blob") && tree.output().contains("\tweb/www/cgi-bin/api"), tree.output());
    assertTrue(Files.list(dir.resolve("data")).noneMatch(p -> p.getFileName().toString().startsWith("sample-app-work")));

    App app = SampleApp.app(first, "busybox:1.36");
    assertEquals(List.of("web", "api"), app.components().stream().map(c -> c.name()).toList());
    assertEquals("file", app.components().get(0).source().transport());
    assertEquals(first.commit(), app.components().get(0).source().commit());
    assertEquals("web", app.entryComponent().orElseThrow().name());
  }

  @Test
  void aChangedCheckoutGetsANewCommit() throws Exception {
    SampleApp.Repo first = SampleApp.ensureRepository(dir);
    // Someone committed something else into the repository: the next run restores the shipped files.
    Commands.Result r = Commands.run(List.of("git", "--git-dir=" + first.gitDir(), "update-ref", "-d", "HEAD"), dir,
        Duration.ofSeconds(30));
    assertTrue(r.ok(), r.output());
    SampleApp.Repo again = SampleApp.ensureRepository(dir);
    assertFalse(again.reused());
    assertNotEquals("", again.commit());
  }
}
