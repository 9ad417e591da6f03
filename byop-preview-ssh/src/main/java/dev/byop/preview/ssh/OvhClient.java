package dev.byop.preview.ssh;

import org.jspecify.annotations.Nullable;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.byop.core.Secret;
import dev.byop.core.ValidationException;
import dev.byop.core.internal.Redactor;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * A minimal client of the OVH API v1 with signed requests, on byop's retrying cloud HTTP layer.
 *
 * <p>Every call but {@code GET /auth/time} carries {@code X-Ovh-Application}, {@code X-Ovh-Consumer},
 * {@code X-Ovh-Timestamp} (local time corrected by the server's clock, read from {@code /auth/time} at the first call
 * and again whenever OVH refuses a timestamp) and {@code X-Ovh-Signature = "$1$" + sha1_hex(appSecret + "+" +
 * consumerKey + "+" + METHOD + "+" + fullUrl + "+" + body + "+" + timestamp)}. GET, PUT and DELETE are retried on
 * 429, 5xx and timeouts; a POST only when it surely was not acted on, or through {@link #create} with a lookup.
 *
 * <pre>{@code
 * OvhClient ovh = new OvhClient(URI.create("https://eu.api.ovh.com/1.0"), appKey, appSecret, consumerKey);
 * JsonNode instances = ovh.call("GET", "/cloud/project/" + project + "/instance", null);
 * }</pre>
 */
public final class OvhClient {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final String base;
  private final String applicationKey;
  private final Secret applicationSecret;
  private final Secret consumerKey;
  private final CloudHttp http;
  private final LongSupplier clock;
  private volatile @Nullable Long delta;

  /**
   * @param baseUrl the API root including the version, e.g. {@code https://eu.api.ovh.com/1.0}
   */
  public OvhClient(URI baseUrl, String applicationKey, Secret applicationSecret, Secret consumerKey) {
    this(baseUrl, applicationKey, applicationSecret, consumerKey, () -> System.currentTimeMillis() / 1000, null);
  }

  /** @param http the HTTP layer (tests pass one with recorded waits); null for the default retry policy */
  OvhClient(URI baseUrl, String applicationKey, Secret applicationSecret, Secret consumerKey, LongSupplier epochSeconds,
      @Nullable CloudHttp http) {
    String b = baseUrl.toString();
    this.base = b.endsWith("/") ? b.substring(0, b.length() - 1) : b;
    if (!base.startsWith("https://") && !base.startsWith("http://")) {
      throw new ValidationException("ovh.endpoint", baseUrl, "must be an http(s) URL");
    }
    this.applicationKey = Objects.requireNonNull(applicationKey, "applicationKey");
    this.applicationSecret = Objects.requireNonNull(applicationSecret, "applicationSecret");
    this.consumerKey = Objects.requireNonNull(consumerKey, "consumerKey");
    this.clock = epochSeconds;
    Redactor secrets = new Redactor().add(applicationSecret).add(consumerKey);
    this.http = http != null ? http : new CloudHttp("ovh", CloudRetry.defaults(), secrets);
    this.http.redactor().add(applicationSecret).add(consumerKey);
  }

  /** Hides {@code secret} in the messages of this client's errors and retries from now on. */
  void hide(Secret secret) {
    http.redactor().add(secret);
  }

  /** {@code redactor} with this client's secrets (application secret, consumer key) added. */
  Redactor withSecrets(Redactor redactor) {
    return redactor.add(applicationSecret).add(consumerKey);
  }

  /** The signature of one request, as OVH computes it. */
  public static String signature(String applicationSecret, String consumerKey, String method, String fullUrl, String body, long timestamp) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-1").digest(
          (applicationSecret + "+" + consumerKey + "+" + method + "+" + fullUrl + "+" + body + "+" + timestamp).getBytes(StandardCharsets.UTF_8));
      return "$1$" + HexFormat.of().formatHex(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 missing from the JDK", e);
    }
  }

  private long timestamp() {
    Long d = delta;
    if (d == null) {
      CloudHttp.Answer a = http.send("GET", "/auth/time", () -> request("GET", base + "/auth/time", "", false), x -> false);
      JsonNode t = parse("GET", "/auth/time", a);
      if (!t.canConvertToLong()) {
        throw new OvhApiException("GET", "/auth/time", a.status(), "", "the server time is not a number");
      }
      d = t.asLong() - clock.getAsLong();
      delta = d;
    }
    return clock.getAsLong() + d;
  }

  /**
   * A signed call; {@code body} is serialised to JSON (null for none). Returns the parsed answer (null node for none).
   * GET, PUT and DELETE are retried; other methods are sent again only when they surely were not acted on.
   */
  public JsonNode call(String method, String path, @Nullable Object body) {
    String json = json(path, body);
    Supplier<HttpRequest> req = () -> request(method, base + path, json, true);
    boolean idempotent = method.equals("GET") || method.equals("PUT") || method.equals("DELETE");
    CloudHttp.Answer a = idempotent ? http.send(method, path, req, this::staleTime) : http.sendOnce(method, path, req, this::staleTime);
    return parse(method, path, a);
  }

  /**
   * A signed create (POST): after an outcome that may have made the object, {@code existing} is asked before it is
   * sent again, and its find is the answer, so a retry never makes two.
   */
  JsonNode create(String path, Object body, Supplier<Optional<JsonNode>> existing) {
    String json = json(path, body);
    return http.create("POST", path, () -> request("POST", base + path, json, true), this::staleTime,
        a -> parse("POST", path, a), existing);
  }

  /** OVH refuses a request whose timestamp is off its clock ({@code QUERY_TIME_OUT}): re-read the delta. */
  private boolean staleTime(CloudHttp.Answer a) {
    if (a.status() != 400 && a.status() != 401 && a.status() != 403) {
      return false;
    }
    JsonNode n = a.json();
    String code = n.path("errorCode").asText("");
    String message = n.path("message").asText("").toLowerCase(Locale.ROOT);
    if (code.equals("QUERY_TIME_OUT") || message.contains("out of time") || message.contains("timestamp")) {
      delta = null;
      return true;
    }
    return false;
  }

  private static String json(String path, @Nullable Object body) {
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("OVH API path '" + path + "' must start with '/'");
    }
    try {
      return body == null ? "" : JSON.writeValueAsString(body);
    } catch (IOException e) {
      throw new IllegalArgumentException("request body is not serialisable", e);
    }
  }

  private HttpRequest request(String method, String url, String json, boolean signed) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(http.retry().requestTimeout())
        .header("Accept", "application/json")
        .method(method, json.isEmpty() ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
    if (!json.isEmpty()) {
      b.header("Content-Type", "application/json");
    }
    if (signed) {
      long ts = timestamp();
      b.header("X-Ovh-Application", applicationKey)
          .header("X-Ovh-Consumer", consumerKey.reveal())
          .header("X-Ovh-Timestamp", Long.toString(ts))
          .header("X-Ovh-Signature", signature(applicationSecret.reveal(), consumerKey.reveal(), method, url, json, ts));
    }
    return b.build();
  }

  private JsonNode parse(String method, String path, CloudHttp.Answer a) {
    JsonNode answer = a.json();
    if (!a.ok()) {
      String code = answer.path("errorCode").asText("");
      String message = answer.path("message").asText(a.body().length() > 300 ? a.body().substring(0, 300) : a.body());
      throw new OvhApiException(method, path, a.status(), code, http.redactor().redact(message));
    }
    return answer;
  }

}
