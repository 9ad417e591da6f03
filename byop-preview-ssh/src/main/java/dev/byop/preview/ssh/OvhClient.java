package dev.byop.preview.ssh;

import org.jspecify.annotations.Nullable;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.byop.core.Secret;
import dev.byop.core.ValidationException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * A minimal client of the OVH API v1 with signed requests.
 *
 * <p>Every call but {@code GET /auth/time} carries {@code X-Ovh-Application}, {@code X-Ovh-Consumer},
 * {@code X-Ovh-Timestamp} (local time corrected by the server's clock, read once from {@code /auth/time}) and
 * {@code X-Ovh-Signature = "$1$" + sha1_hex(appSecret + "+" + consumerKey + "+" + METHOD + "+" + fullUrl + "+" + body
 * + "+" + timestamp)}.
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
  private final HttpClient http;
  private final LongSupplier clock;
  private volatile @Nullable Long delta;

  /**
   * @param baseUrl the API root including the version, e.g. {@code https://eu.api.ovh.com/1.0}
   */
  public OvhClient(URI baseUrl, String applicationKey, Secret applicationSecret, Secret consumerKey) {
    this(baseUrl, applicationKey, applicationSecret, consumerKey, () -> System.currentTimeMillis() / 1000);
  }

  OvhClient(URI baseUrl, String applicationKey, Secret applicationSecret, Secret consumerKey, LongSupplier epochSeconds) {
    String b = baseUrl.toString();
    this.base = b.endsWith("/") ? b.substring(0, b.length() - 1) : b;
    if (!base.startsWith("https://") && !base.startsWith("http://")) {
      throw new ValidationException("ovh.endpoint", baseUrl, "must be an http(s) URL");
    }
    this.applicationKey = Objects.requireNonNull(applicationKey, "applicationKey");
    this.applicationSecret = Objects.requireNonNull(applicationSecret, "applicationSecret");
    this.consumerKey = Objects.requireNonNull(consumerKey, "consumerKey");
    this.clock = epochSeconds;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  }

  /** {@code redactor} with this client's secrets (application secret, consumer key) added. */
  dev.byop.core.internal.Redactor withSecrets(dev.byop.core.internal.Redactor redactor) {
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
      JsonNode t = send("GET", "/auth/time", null, false);
      d = t.asLong() - clock.getAsLong();
      delta = d;
    }
    return clock.getAsLong() + d;
  }

  /** A signed call; {@code body} is serialised to JSON (null for none). Returns the parsed answer (null node for none). */
  public JsonNode call(String method, String path, @Nullable Object body) {
    return send(method, path, body, true);
  }

  private JsonNode send(String method, String path, @Nullable Object body, boolean signed) {
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("OVH API path '" + path + "' must start with '/'");
    }
    String url = base + path;
    String json;
    try {
      json = body == null ? "" : JSON.writeValueAsString(body);
    } catch (IOException e) {
      throw new IllegalArgumentException("request body is not serialisable", e);
    }
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
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
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      JsonNode answer = r.body().isBlank() ? JSON.nullNode() : JSON.readTree(r.body());
      if (r.statusCode() / 100 != 2) {
        String code = answer.path("errorCode").asText("");
        String message = answer.path("message").asText(r.body());
        throw new OvhApiException(method, path, r.statusCode(), code, message);
      }
      return answer;
    } catch (IOException e) {
      throw new SshException("OVH API " + method + " " + path + " unreachable: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SshException("interrupted calling OVH API " + method + " " + path, e);
    }
  }
}
