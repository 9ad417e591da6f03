package dev.byop.store.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.BuildConfig;
import dev.byop.core.BuildJob;
import dev.byop.core.BuildStatus;
import dev.byop.core.LogLine;
import dev.byop.core.spi.Store;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13: a status a client has seen survives SIGKILL on the embedded store. A child JVM commits SUCCESS on an H2
 * file database and says so on stdout; this JVM kills it with SIGKILL at once (by pid), reopens the database and must
 * find SUCCESS and the last log line, in every one of {@value #TRIALS} trials.
 */
class H2DurableCommitTest {
  static final int TRIALS = 20;

  @TempDir Path tmp;

  @Test
  void aCommittedStatusSurvivesSigkillOfTheProcessRightAfterTheCommit() throws Exception {
    String url = JdbcStoreFactory.h2Url(tmp);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> lost = new ArrayList<>();
    for (int trial = 1; trial <= TRIALS; trial++) {
      String jobId;
      try (Store store = JdbcStoreFactory.open(url, "sa", dev.byop.core.Secret.of(""), null, 2)) {
        // an app per trial: a job of an earlier trial that lost its SUCCESS must not hold this trial's queue
        store.saveApp(DbTestBase.app("trial-" + trial, "web"));
        jobId = store.createBuildJob("trial-" + trial, "web", BuildConfig.defaults(), Instant.now()).id();
      }
      Path err = tmp.resolve("child-" + trial + ".err");
      Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
          DurableCommitChild.class.getName(), url).redirectError(err.toFile()).start();
      String said;
      try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
          StandardCharsets.UTF_8))) {
        said = out.readLine();
        ProcessHandle.of(child.pid()).ifPresent(ProcessHandle::destroyForcibly); // SIGKILL, right after the commit
      } finally {
        child.destroyForcibly();
      }
      assertTrue(child.waitFor(60, TimeUnit.SECONDS));
      assertEquals("committed " + jobId, said, () -> "child stderr: " + read(err));
      assertEquals(137, child.exitValue(), "killed by SIGKILL, not ended by itself");
      try (Store store = JdbcStoreFactory.open(url, "sa", dev.byop.core.Secret.of(""), null, 2)) {
        BuildJob after = store.findBuildJob(jobId).orElseThrow();
        List<LogLine> log = store.readLog(jobId, 0, 10);
        if (after.status() != BuildStatus.SUCCESS || log.size() != 1) {
          lost.add("trial " + trial + ": " + after.status() + " with " + log.size() + " log line(s)");
          // out of the way of the next trial's claim, which takes the oldest pending job
          if (!after.status().isTerminal()) {
            store.transitionBuildJob(dev.byop.core.spi.BuildJobStore.BuildTransition.of(jobId, null, after.status(),
                BuildStatus.CANCELLED, Instant.now()));
          }
        }
      }
    }
    assertEquals(List.of(), lost, "committed writes lost after SIGKILL");
  }

  private static String read(Path f) {
    try {
      return Files.readString(f);
    } catch (java.io.IOException e) {
      return e.toString();
    }
  }
}
