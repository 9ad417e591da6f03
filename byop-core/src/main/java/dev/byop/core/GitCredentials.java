package dev.byop.core;

import dev.byop.core.internal.Checks;

/**
 * An app's own credentials for its git source: a user name and a reference to the token, never the token itself.
 * The builder sends them only to the host (scheme, host and port) of that source's URL, and resolves the reference
 * only inside the place its operator set aside for that app (for the BuildKit builder, a file under
 * {@code builder.git.appSecrets/<app id>/}), so one app can never name another app's or the operator's secrets.
 *
 * @param username the user name; empty for a token that needs none (sent as {@code x-access-token})
 * @param token where the token is read from
 */
public record GitCredentials(String username, SecretRef token) {
  public GitCredentials {
    username = username == null ? "" : username;
    Checks.singleLine("git.credentials.username", username);
    if (username.contains(":") || username.contains("@")) {
      throw new ValidationException("git.credentials.username", username, "must not contain ':' or '@'");
    }
    Checks.notNull("git.credentials.token", token);
  }

  public static GitCredentials of(String username, SecretRef token) {
    return new GitCredentials(username, token);
  }
}
