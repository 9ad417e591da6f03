package dev.byop.preview.ssh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.byop.core.Secret;
import dev.byop.core.ValidationException;
import dev.byop.core.internal.Redactor;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * A minimal client of the Hetzner Cloud API v1 ({@code https://api.hetzner.cloud/v1}), on byop's retrying cloud HTTP
 * layer: {@code Authorization: Bearer <token>}, JSON bodies, errors as {@code {"error": {"code", "message"}}} raised
 * as {@link CloudApiException}, rate limiting (429 with {@code RateLimit-*} headers) waited out.
 *
 * <pre>{@code
 * HetznerClient hcloud = new HetznerClient(URI.create("https://api.hetzner.cloud/v1"), token);
 * JsonNode servers = hcloud.call("GET", "/servers?label_selector=byop-owner%3Dci", null);
 * }</pre>
 */
public final class HetznerClient {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final String base;
  private final Secret token;
  private final CloudHttp http;

  /** @param baseUrl the API root including the version, e.g. {@code https://api.hetzner.cloud/v1} */
  public HetznerClient(URI baseUrl, Secret token) {
    this(baseUrl, token, null);
  }

  /** @param http the HTTP layer (tests pass one with recorded waits); null for the default retry policy */
  HetznerClient(URI baseUrl, Secret token, @Nullable CloudHttp http) {
    String b = baseUrl.toString();
    this.base = b.endsWith("/") ? b.substring(0, b.length() - 1) : b;
    if (!base.startsWith("https://") && !base.startsWith("http://")) {
      throw new ValidationException("cloud.endpoint", baseUrl, "must be an http(s) URL");
    }
    this.token = Objects.requireNonNull(token, "token");
    if (token.isEmpty()) {
      throw new ValidationException("cloud.token", null, "the Hetzner Cloud API token is empty");
    }
    this.http = http != null ? http : new CloudHttp("hetzner", CloudRetry.defaults(), new Redactor());
    this.http.redactor().add(token);
  }

  /** Hides {@code secret} in the messages of this client's errors and retries from now on. */
  void hide(Secret secret) {
    http.redactor().add(secret);
  }

  /** {@code redactor} with this client's token added. */
  Redactor withSecrets(Redactor redactor) {
    return redactor.add(token);
  }

  /**
   * A call; {@code body} is serialised to JSON (null for none); {@code path} may carry a query. GET, PUT and DELETE
   * are retried; other methods are sent again only when they surely were not acted on.
   */
  public JsonNode call(String method, String path, @Nullable Object body) {
    String json = json(path, body);
    Supplier<HttpRequest> req = () -> request(method, path, json);
    boolean idempotent = method.equals("GET") || method.equals("PUT") || method.equals("DELETE");
    CloudHttp.Answer a = idempotent ? http.send(method, pathOnly(path), req, x -> false) : http.sendOnce(method, pathOnly(path), req, x -> false);
    return parse(method, pathOnly(path), a);
  }

  /** A create (POST) that asks {@code existing} before it is sent again after an outcome that may have acted. */
  JsonNode create(String path, Object body, Supplier<Optional<JsonNode>> existing) {
    String json = json(path, body);
    return http.create("POST", path, () -> request("POST", path, json), x -> false, a -> parse("POST", path, a), existing);
  }

  private static String pathOnly(String path) {
    int q = path.indexOf('?');
    return q < 0 ? path : path.substring(0, q);
  }

  private static String json(String path, @Nullable Object body) {
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("Hetzner Cloud API path '" + path + "' must start with '/'");
    }
    try {
      return body == null ? "" : JSON.writeValueAsString(body);
    } catch (IOException e) {
      throw new IllegalArgumentException("request body is not serialisable", e);
    }
  }

  private HttpRequest request(String method, String path, String json) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(http.retry().requestTimeout())
        .header("Accept", "application/json")
        .header("Authorization", "Bearer " + token.reveal())
        .method(method, json.isEmpty() ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
    if (!json.isEmpty()) {
      b.header("Content-Type", "application/json");
    }
    return b.build();
  }

  private JsonNode parse(String method, String path, CloudHttp.Answer a) {
    JsonNode answer = a.json();
    if (!a.ok()) {
      JsonNode e = answer.path("error");
      String code = e.path("code").asText("");
      String message = e.path("message").asText(a.body().length() > 300 ? a.body().substring(0, 300) : a.body());
      throw new CloudApiException("hetzner", method, path, a.status(), code, http.redactor().redact(message));
    }
    return answer;
  }

}
