package dev.byop.buildkit.internal;

import dev.byop.core.BuildException;
import dev.byop.core.Credentials;
import dev.byop.core.internal.GitUrl;
import dev.byop.core.internal.ShellQuote;
import dev.byop.core.GitSource;
import dev.byop.core.spi.Cancellation;
import dev.byop.core.spi.LogSink;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches a git revision into a per-job directory through a per-repository cache, with the git CLI.
 *
 * <p>Why the git CLI rather than JGit: shallow fetches of a single commit or ref (protocol v2), the user's SSH
 * setup (agent, known_hosts, ciphers) and every transport behave exactly like {@code git} on the host, with no extra
 * dependency tree; JGit's shallow and SSH support lag behind. Commands are argument lists; URLs and refs were
 * validated by {@link GitSource} (no leading '-', no remote helpers) and follow {@code --} where git allows it.
 * Tokens go through {@code GIT_ASKPASS} and the environment, never into a URL or a command line.
 *
 * <p>The cache is a normal clone whose working tree is updated in place, so unchanged files keep their mtime; the job
 * directory is a hard-link copy of it without {@code .git}. That keeps BuildKit's incremental context upload (which
 * compares size and mtime) sending only the files that changed between two commits.
 */
public final class GitFetcher {
  private static final Logger LOG = LoggerFactory.getLogger(GitFetcher.class);
  private static final Pattern FULL_SHA = Pattern.compile("[0-9a-f]{40}|[0-9a-f]{64}");
  private static final Pattern SHORT_SHA = Pattern.compile("[0-9a-f]{7,39}");
  private static final Map<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();

  private final Path cacheRoot;
  private final Path jobsRoot;
  private final GitSource.Policy policy;
  private final @Nullable Path sshKey;
  private final @Nullable Path knownHosts;
  private final String git;

  /** The result of a fetch. */
  public record Checkout(Path directory, Path contextDir, String commit) {}

  public GitFetcher(Path cacheRoot, Path jobsRoot, GitSource.Policy policy, @Nullable Path sshKey,
      @Nullable Path knownHosts, String gitBinary) {
    this.cacheRoot = cacheRoot;
    this.jobsRoot = jobsRoot;
    this.policy = policy;
    this.sshKey = sshKey;
    this.knownHosts = knownHosts;
    this.git = gitBinary;
  }

  /**
   * How a fetch authenticates: a token (https) and/or an SSH key, and where they came from. {@code identity} names
   * the source of the credentials (never their value) and is part of the cache key.
   */
  public record Auth(@Nullable Credentials token, @Nullable Path sshKey, String identity) {}

  /** A fetch for no particular app (tests, tools); explicit credentials go only to the source's own host. */
  public Checkout fetch(String jobId, GitSource source, @Nullable String revision, String contextDir,
      @Nullable Credentials credentials, LogSink log, Cancellation cancellation) {
    return fetch(jobId, "-", source, revision, contextDir,
        credentials == null ? null : new Auth(credentials, null, "explicit:" + credentials.username()), log,
        cancellation);
  }

  /**
   * Fetches {@code source} for {@code appId}. The credentials in {@code auth} were chosen for this source's URL by
   * the caller; here they are held to its origin (scheme, host, port): git gets the URL without user info, follows
   * no redirect while it holds credentials, and the askpass helper answers only git's prompts for that origin.
   */
  public Checkout fetch(String jobId, String appId, GitSource source, @Nullable String revision, String contextDir,
      @Nullable Auth auth, LogSink log, Cancellation cancellation) {
    policy.check(source);
    if (!jobId.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
      throw new dev.byop.core.ValidationException("job id", jobId, "must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    }
    String rev = revision != null ? revision : source.revision();
    // GitSource refuses URLs with a password or token, so the URL given to git (and written into the cache's
    // .git/config) holds none; http(s) URLs go to git in the normalised form credentials were matched on
    GitUrl parsed = GitUrl.parse(source.url()).orElse(null);
    boolean http = source.transport().equals("https") || source.transport().equals("http");
    String url = http && parsed != null ? parsed.withoutUserInfo() : source.url();
    Credentials credentials = auth == null || !http || parsed == null ? null : auth.token();
    // One cache per app, URL and source of credentials, never one per repository: objects in a cache were
    // authorised by the server for that app's fetch only. A shared cache would hand a private commit fetched with
    // app A's token to app B naming the same URL and commit (the object is present, so git never asks the server);
    // verifying with the server first cannot close that for every transport (dumb HTTP has no notion of a
    // reachable-commit check), so the caches are kept apart instead, at the cost of one copy per app.
    Path cache = cacheRoot.resolve(hash(appId + "\n" + url + "\n" + (auth == null ? "none" : auth.identity())));
    Path jobDir = jobsRoot.resolve(jobId);
    Path src = jobDir.resolve("src");
    ReentrantLock lock = LOCKS.computeIfAbsent(cache, k -> new ReentrantLock());
    lock.lock();
    Path askpassDir = null;
    try {
      Files.createDirectories(cache);
      try (FileChannel fc = FileChannel.open(cacheRoot.resolve(cache.getFileName() + ".lock"),
          StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock ignored = fc.lock()) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("GIT_TERMINAL_PROMPT", "0");
        env.put("GIT_CONFIG_NOSYSTEM", "1");
        // nor the byop user's ~/.gitconfig: an insteadOf or credential setting there would change where a fetch goes
        env.put("GIT_CONFIG_GLOBAL", "/dev/null");
        if (credentials != null) {
          askpassDir = Files.createTempDirectory("byop-askpass", PosixFilePermissions.asFileAttribute(
              PosixFilePermissions.fromString("rwx------")));
          Path script = writeAskpass(askpassDir);
          String user = credentials.username().isEmpty() ? "x-access-token" : credentials.username();
          env.put("GIT_ASKPASS", script.toString());
          env.putAll(askpassEnv(parsed, user, credentials.secret().reveal()));
        }
        Path identity = auth != null && auth.sshKey() != null && source.transport().equals("ssh") ? auth.sshKey()
            : sshKey;
        if (identity != null || knownHosts != null) {
          StringBuilder ssh = new StringBuilder("ssh -o BatchMode=yes -o StrictHostKeyChecking=yes");
          if (identity != null) {
            ssh.append(" -o IdentitiesOnly=yes -i ").append(ShellQuote.quote(identity.toString()));
          }
          if (knownHosts != null) {
            ssh.append(" -o UserKnownHostsFile=").append(ShellQuote.quote(knownHosts.toString()));
          }
          env.put("GIT_SSH_COMMAND", ssh.toString());
        }
        log.line("fetching " + source.redactedUrl() + " at " + rev);
        if (!Files.isDirectory(cache.resolve(".git"))) {
          run(log, cancellation, env, null, git, "init", "-q", cache.toString());
        }
        run(log, cancellation, env, cache, git, "config", "remote.origin.url", url);
        fetchRevision(cache, rev, log, cancellation, env);
        String target = FULL_SHA.matcher(rev).matches() ? rev
            : SHORT_SHA.matcher(rev).matches() ? rev : "FETCH_HEAD";
        run(log, cancellation, env, cache, git, "-c", "advice.detachedHead=false", "checkout", "-q", "--force",
            "--detach", target + "^{commit}", "--");
        run(log, cancellation, env, cache, git, "clean", "-q", "-ffdx");
        String commit = run(log, cancellation, env, cache, git, "rev-parse", "HEAD").trim();
        deleteTree(jobDir);
        Files.createDirectories(jobDir);
        linkTree(cache, src);
        // resolved following links, and it must stay in the checkout (a repo link ctx -> ../.. must not escape)
        Path ctx = SafePaths.inside(src.toRealPath(), src.resolve(contextDir), "component.contextDir", contextDir);
        if (!Files.isDirectory(ctx, LinkOption.NOFOLLOW_LINKS)) {
          throw new BuildException("component.contextDir '" + contextDir + "' is not a directory in "
              + source.redactedUrl() + " at " + commit);
        }
        log.line("checked out " + commit);
        return new Checkout(src, ctx, commit);
      }
    } catch (IOException e) {
      throw new BuildException("fetching " + source.redactedUrl() + " failed: " + e.getMessage(), e);
    } finally {
      lock.unlock();
      if (askpassDir != null) {
        deleteTree(askpassDir);
      }
    }
  }

  private void fetchRevision(Path cache, String rev, LogSink log, Cancellation c, Map<String, String> env)
      throws IOException {
    if (FULL_SHA.matcher(rev).matches()) {
      if (runOk(log, c, env, cache, git, "cat-file", "-e", rev + "^{commit}")) {
        return; // already in the cache
      }
      if (runOk(log, c, env, cache, git, "fetch", "-q", "--depth=1", "--no-tags", "--", "origin", rev)) {
        return;
      }
      log.line("the server does not allow fetching a commit by id; fetching all branches");
      unshallowFetch(cache, log, c, env);
      return;
    }
    if (SHORT_SHA.matcher(rev).matches()) {
      unshallowFetch(cache, log, c, env);
      return;
    }
    if (runOk(log, c, env, cache, git, "fetch", "-q", "--depth=1", "--no-tags", "--", "origin", rev)) {
      return;
    }
    // shallow where the server allows: git's dumb HTTP transport, for one, has no shallow capability
    log.line("the server does not allow a shallow fetch of " + rev + "; fetching its whole history");
    List<String> cmd = new ArrayList<>(List.of(git, "fetch", "-q", "--no-tags"));
    if (Files.exists(cache.resolve(".git/shallow"))) {
      cmd.add("--unshallow");
    }
    cmd.addAll(List.of("--", "origin", rev));
    run(log, c, env, cache, cmd.toArray(String[]::new));
  }

  private void unshallowFetch(Path cache, LogSink log, Cancellation c, Map<String, String> env) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(git, "fetch", "-q", "--no-tags"));
    if (Files.exists(cache.resolve(".git/shallow"))) {
      cmd.add("--unshallow");
    }
    cmd.addAll(List.of("--", "origin", "+refs/heads/*:refs/remotes/origin/*"));
    run(log, c, env, cache, cmd.toArray(String[]::new));
  }

  private boolean runOk(LogSink log, Cancellation c, Map<String, String> env, @Nullable Path dir, String... cmd)
      throws IOException {
    try {
      run(log, c, env, dir, cmd);
      return true;
    } catch (BuildException e) {
      return false;
    }
  }

  /** Runs git, streams its output to the log, and returns stdout; a non-zero exit is a BuildException. */
  private String run(LogSink log, Cancellation cancellation, Map<String, String> env, @Nullable Path dir,
      String... cmd) throws IOException {
    cancellation.throwIfCancelled();
    List<String> full = new ArrayList<>(List.of(cmd));
    // no credential helpers of the host: credentials come only from byop's configuration
    full.addAll(1, List.of("-c", "credential.helper=", "-c", "core.hooksPath=/dev/null"));
    String secret = env.get("BYOP_GIT_PASSWORD");
    if (secret != null) {
      // with credentials, git follows no redirect at all: its default ("initial") would follow one to another host
      // and then ask for (and send) the credentials there
      full.addAll(1, List.of("-c", "http.followRedirects=false"));
    }
    ProcessBuilder pb = new ProcessBuilder(full);
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    pb.environment().putAll(env);
    String shown = String.join(" ", full.stream().map(GitSource::redact).toList());
    LOG.debug("running {}", shown);
    Process p = pb.start();
    p.getOutputStream().close();
    List<String> errLines = new ArrayList<>();
    Thread errReader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
        String l;
        while ((l = r.readLine()) != null) {
          String red = mask(GitSource.redact(l), secret);
          synchronized (errLines) {
            errLines.add(red);
          }
          log.line(red);
        }
      } catch (IOException e) {
        // process gone
      }
    }, "byop-git-stderr");
    errReader.setDaemon(true);
    errReader.start();
    try (AutoCloseable onCancel = cancellation.onCancel(p::destroy)) {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.MINUTES)) {
        p.destroyForcibly();
      }
      errReader.join(5000);
      cancellation.throwIfCancelled();
      if (p.exitValue() != 0) {
        List<String> tail;
        synchronized (errLines) {
          tail = List.copyOf(errLines.subList(Math.max(0, errLines.size() - 20), errLines.size()));
        }
        throw new BuildException("'" + shown + "' exited with " + p.exitValue()
            + (tail.isEmpty() ? "" : ": " + tail.get(tail.size() - 1)), "git " + cmd[1], p.exitValue(), tail, null);
      }
      return out;
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new dev.byop.core.CancelledException("interrupted");
    } catch (BuildException | dev.byop.core.CancelledException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException(e);
    }
  }

  /** Hard-links the working tree (without .git) into a new directory; copies when links are impossible. */
  static void linkTree(Path from, Path to) throws IOException {
    Files.walkFileTree(from, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
        if (dir.getFileName().toString().equals(".git") && dir.getParent().equals(from)) {
          return FileVisitResult.SKIP_SUBTREE;
        }
        Path d = to.resolve(from.relativize(dir).toString());
        Files.createDirectories(d);
        Files.setPosixFilePermissions(d, Files.getPosixFilePermissions(dir));
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Path t = to.resolve(from.relativize(file).toString());
        if (attrs.isSymbolicLink()) {
          Files.createSymbolicLink(t, Files.readSymbolicLink(file));
        } else if (attrs.isRegularFile()) {
          try {
            Files.createLink(t, file);
          } catch (IOException | UnsupportedOperationException e) {
            Files.copy(file, t, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
          }
        }
        return FileVisitResult.CONTINUE;
      }
    });
  }

  /** Deletes a directory tree (not following symlinks); a missing tree is fine. */
  public static void deleteTree(Path dir) {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }

  /**
   * Writes the askpass helper. It holds no secret: git runs it and it prints variables from git's environment. It
   * answers only the two prompts git asks for the one origin the credentials are for ("Username for
   * 'https://host': " and "Password for 'https://user@host': ", git's credential_ask_one); a prompt naming any other
   * host (a redirect, a URL rewritten by configuration) gets nothing and a non-zero exit.
   */
  static Path writeAskpass(Path dir) throws IOException {
    Path script = dir.resolve("askpass.sh");
    Files.writeString(script, "#!/bin/sh\nif [ \"$1\" = \"$BYOP_GIT_USER_PROMPT\" ]; then\n"
        + "  printf '%s\\n' \"$BYOP_GIT_USERNAME\"\nelif [ \"$1\" = \"$BYOP_GIT_PASS_PROMPT\" ]; then\n"
        + "  printf '%s\\n' \"$BYOP_GIT_PASSWORD\"\nelse\n  exit 1\nfi\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    return script;
  }

  /** The environment {@link #writeAskpass} reads: the exact prompts for {@code origin} and the answers. */
  static Map<String, String> askpassEnv(GitUrl origin, String user, String password) {
    String hostPort = origin.origin().substring(origin.scheme().length() + 3);
    Map<String, String> env = new LinkedHashMap<>();
    env.put("BYOP_GIT_USER_PROMPT", "Username for '" + origin.origin() + "': ");
    env.put("BYOP_GIT_PASS_PROMPT", "Password for '" + origin.scheme() + "://" + user + "@" + hostPort + "': ");
    env.put("BYOP_GIT_USERNAME", user);
    env.put("BYOP_GIT_PASSWORD", password);
    return env;
  }

  private static String mask(String line, @Nullable String secret) {
    return secret == null || secret.isEmpty() ? line : line.replace(secret, "******");
  }

  private static String hash(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
