package dev.byop.docker;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.jspecify.annotations.Nullable;

/**
 * Credentials for one registry, sent to the engine as the {@code X-Registry-Auth} header; {@link #toString()}
 * never shows the secret.
 *
 * @param username user name, or null with an identity token
 * @param password password or access token
 * @param serverAddress registry host (e.g. {@code 127.0.0.1:5000})
 * @param identityToken an OAuth identity/refresh token instead of a password
 */
public record RegistryAuth(
    @Nullable String username,
    @Nullable String password,
    @Nullable String serverAddress,
    @Nullable String identityToken) {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** User name and password for a registry. */
  public static RegistryAuth basic(String username, String password, String serverAddress) {
    return new RegistryAuth(username, password, serverAddress, null);
  }

  /** An identity token for a registry. */
  public static RegistryAuth identityToken(String token, String serverAddress) {
    return new RegistryAuth(null, null, serverAddress, token);
  }

  /** No credentials (anonymous pushes to an open registry). */
  public static RegistryAuth anonymous() {
    return new RegistryAuth(null, null, null, null);
  }

  /** The header value: base64url of the JSON the engine expects. */
  public String toHeaderValue() {
    Map<String, String> m = new LinkedHashMap<>();
    if (identityToken != null) {
      m.put("identitytoken", identityToken);
    } else {
      if (username != null) {
        m.put("username", username);
      }
      if (password != null) {
        m.put("password", password);
      }
    }
    if (serverAddress != null) {
      m.put("serveraddress", serverAddress);
    }
    try {
      byte[] json = JSON.writeValueAsBytes(m);
      return Base64.getUrlEncoder().encodeToString(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String toString() {
    return "RegistryAuth[username=" + username + ", serverAddress=" + serverAddress
        + (password != null ? ", password=***" : "") + (identityToken != null ? ", identityToken=***" : "") + "]";
  }
}
