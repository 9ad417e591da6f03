package dev.byop.core;

import dev.byop.core.internal.Checks;

/**
 * A user name and secret for a registry or git server; {@code toString} never shows the secret. An identity token
 * (OAuth refresh token) has an empty user name, as Docker's credential helpers return it.
 */
public record Credentials(String username, Secret secret) {
  public Credentials {
    Checks.notNull("credentials.username", username);
    Checks.singleLine("credentials.username", username);
    Checks.notNull("credentials.secret", secret);
  }

  public static Credentials basic(String username, String password) {
    return new Credentials(username, Secret.of(password));
  }

  public static Credentials identityToken(String token) {
    return new Credentials("", Secret.of(token));
  }

  public boolean isIdentityToken() {
    return username.isEmpty();
  }

  @Override
  public String toString() {
    return "Credentials[username=" + username + ", secret=******]";
  }
}
