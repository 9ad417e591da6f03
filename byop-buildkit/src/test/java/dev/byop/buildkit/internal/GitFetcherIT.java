package dev.byop.buildkit.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.core.BuildException;
import dev.byop.core.GitSource;
import dev.byop.core.spi.Cancellation;
import dev.byop.testing.Testbed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fetching over SSH from the test bed's sshd with a configured key and known_hosts (host key verified). */
class GitFetcherIT {
  @Test
  void sshWithKeyAndKnownHosts(@TempDir Path tmp) throws Exception {
    Testbed.SshHost ssh = Testbed.get().ssh();
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    Files.writeString(repo.resolve("f.txt"), "over ssh");
    GitFetcherTest.git(repo, "init", "-q", "-b", "main");
    GitFetcherTest.git(repo, "add", "-A");
    GitFetcherTest.git(repo, "commit", "-q", "-m", "one");
    String url = "ssh://" + ssh.user() + "@" + ssh.address() + ":" + ssh.port() + repo;
    List<String> log = new CopyOnWriteArrayList<>();
    GitFetcher f = new GitFetcher(tmp.resolve("cache"), tmp.resolve("jobs"), GitSource.Policy.DEFAULT,
        ssh.privateKey(), ssh.knownHosts(), "git");
    GitFetcher.Checkout co = f.fetch("job-1", GitSource.of(url).withRef("main"), null, ".", null, log::add,
        Cancellation.none());
    assertEquals("over ssh", Files.readString(co.contextDir().resolve("f.txt")));

    // an empty known_hosts: the host key cannot be verified, so the fetch must fail
    Path emptyKnownHosts = Files.writeString(tmp.resolve("known_hosts"), "");
    GitFetcher unverified = new GitFetcher(tmp.resolve("cache2"), tmp.resolve("jobs2"), GitSource.Policy.DEFAULT,
        ssh.privateKey(), emptyKnownHosts, "git");
    BuildException e = assertThrows(BuildException.class, () -> unverified.fetch("job-2",
        GitSource.of(url).withRef("main"), null, ".", null, log::add, Cancellation.none()));
    assertTrue(String.join("\n", e.logTail()).toLowerCase().contains("host key"), e.logTail().toString());
  }
}
