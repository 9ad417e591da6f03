package dev.byop.buildkit.internal;

import dev.byop.core.BuildException;
import dev.byop.core.ConfigException;
import dev.byop.core.Credentials;
import dev.byop.core.GitCredentials;
import dev.byop.core.GitSource;
import dev.byop.core.Secret;
import dev.byop.core.SecretRef;
import dev.byop.core.Settings;
import dev.byop.core.internal.GitUrl;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Which git credentials a fetch may use: configured ones scoped to a URL prefix ({@code builder.git.credentials}),
 * and an app's own ({@link GitSource#credentials()}), whose token file is read only from that app's folder under
 * {@code builder.git.appSecrets}.
 */
public final class GitCredentialScopes {
  /** One configured scope: every URL under {@code match} gets this token (https) or SSH key (ssh). */
  public record Scope(GitUrl match, String shown, @Nullable String username, @Nullable SecretRef token,
      @Nullable Path sshKey) {}

  private final List<Scope> scopes;
  private final @Nullable Path appSecrets;

  public GitCredentialScopes(List<Scope> scopes, @Nullable Path appSecrets) {
    this.scopes = List.copyOf(scopes);
    this.appSecrets = appSecrets;
  }

  public List<Scope> scopes() {
    return scopes;
  }

  /**
   * Reads {@code builder.git}: {@code credentials: [{match, username, token | sshKey}]}, {@code appSecrets}, and the
   * older {@code username}/{@code token}, which now must say which host they are for ({@code host}).
   */
  public static GitCredentialScopes from(Settings g) {
    List<Scope> out = new ArrayList<>();
    for (Settings c : g.sections("credentials")) {
      c.allowOnly("match", "username", "token", "sshKey");
      GitUrl match = prefix(c, "match", c.requireString("match"));
      boolean http = match.scheme().equals("https") || match.scheme().equals("http");
      if (http && !c.has("token")) {
        throw c.error("token", "is required for an https match (a reference {env: NAME} or {file: PATH})");
      }
      if (!http && c.has("token")) {
        throw c.error("token", "a token is sent only over https or http; give sshKey for ssh");
      }
      if (match.scheme().equals("ssh") && !c.has("sshKey")) throw c.error("sshKey", "is required for an ssh match");
      if (http && c.has("sshKey")) throw c.error("sshKey", "applies to ssh:// matches only");
      out.add(new Scope(match, c.requireString("match"), c.string("username").orElse(null),
          c.secret("token").orElse(null), c.string("sshKey").map(Path::of).orElse(null)));
    }
    if (g.has("token") || g.has("host")) {
      // The older single token went to every host an app named; it stays only as a token for one host
      if (!g.has("token")) throw g.error("host", "scopes builder.git.token, which is not set");
      String host = g.string("host").orElseThrow(() -> g.error("token", "is sent only to the host it is for: set"
          + " builder.git.host (e.g. git.example.com or https://git.example.com/acme/), or use builder.git.credentials"
          + " [{match, username, token}]"));
      String prefix = host.contains("://") ? host : "https://" + host + "/";
      GitUrl match = prefix(g, "host", prefix);
      if (!match.scheme().equals("https") && !match.scheme().equals("http")) {
        throw g.error("host", "a token is sent only over https or http");
      }
      out.add(new Scope(match, prefix, g.string("username").orElse(null), g.requireSecret("token"), null));
    } else if (g.has("username")) {
      throw g.error("username", "belongs to builder.git.token; use builder.git.credentials [{match, username, token}]");
    }
    return new GitCredentialScopes(out, g.string("appSecrets").map(Path::of).orElse(null));
  }

  private static GitUrl prefix(Settings s, String key, String value) {
    if (!value.contains("://")) {
      throw s.error(key, "expected a URL prefix with a scheme, e.g. https://git.example.com/");
    }
    GitUrl u = GitUrl.parse(value).orElseThrow(() -> s.error(key, "expected a URL prefix such as"
        + " https://git.example.com/ or https://git.example.com/acme/ (scheme, host, optional port and path)"));
    if (value.substring(value.indexOf("://") + 3).split("/", 2)[0].contains("@") && !u.scheme().equals("ssh")) {
      throw s.error(key, "must not hold user info; give username and token as their own keys");
    }
    if (value.contains("?") || value.contains("#")) throw s.error(key, "must not hold a query or fragment");
    return u;
  }

  /**
   * The credentials for fetching {@code source} for {@code appId}: explicit ones from the request, else the app's own,
   * else the configured scope with the longest path that covers the URL; null when nothing applies. Whatever is
   * chosen is for this URL's origin only ({@link GitFetcher} holds it there).
   */
  public GitFetcher.@Nullable Auth choose(String appId, GitSource source, @Nullable Credentials explicit) {
    Optional<GitUrl> url = GitUrl.parse(source.url());
    if (url.isEmpty()) return null; // file:// and anything we cannot place on a host: no credentials
    if (explicit != null) return new GitFetcher.Auth(explicit, null, "request:" + explicit.username());
    GitCredentials own = source.credentials();
    if (own != null) {
      return new GitFetcher.Auth(new Credentials(own.username(), appToken(appId, own.token())), null,
          "app:" + own.username() + ":" + own.token().describe());
    }
    return scopes.stream().filter(s -> url.get().isUnder(s.match()))
        .max(Comparator.comparingInt(s -> s.match().path().length()))
        .map(s -> new GitFetcher.Auth(s.token() == null ? null : new Credentials(s.username() == null
            ? "x-access-token" : s.username(), s.token().resolve()), s.sshKey(), "config:" + s.shown()))
        .orElse(null);
  }

  /**
   * An app's token: only a {@code {file: NAME}} reference, read from {@code <appSecrets>/<app id>/NAME}. An
   * environment variable or an absolute file would let a user name the operator's secrets (or another app's) and
   * have them sent to a host of the user's choosing.
   */
  Secret appToken(String appId, SecretRef ref) {
    String where = "git credentials of app '" + appId + "'";
    if (!(ref instanceof SecretRef.File f)) {
      throw new BuildException(where + ": the token must be a {file: NAME} reference to a file in the app's folder"
          + " under builder.git.appSecrets, not " + ref.describe().replaceAll(":.*", ""));
    }
    if (appSecrets == null) {
      throw new BuildException(where + ": builder.git.appSecrets is not configured, so apps cannot bring their own");
    }
    Path name = f.path();
    if (name.isAbsolute() || name.normalize().startsWith("..") || name.toString().isEmpty()
        || !name.normalize().equals(name)) {
      throw new BuildException(where + ": the token file '" + name + "' must be a plain relative name");
    }
    try {
      Path dir = appSecrets.resolve(appId).toRealPath();
      Path file = dir.resolve(name).toRealPath();
      if (!file.startsWith(dir) || !Files.isRegularFile(file)) {
        throw new BuildException(where + ": the token file '" + name + "' is not a file in the app's folder");
      }
      return SecretRef.file(file).resolve();
    } catch (IOException | ConfigException e) {
      throw new BuildException(where + ": the token file '" + name + "' cannot be read");
    }
  }
}
