package dev.byop.registry.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.byop.core.Credentials;
import dev.byop.core.RegistryException;
import dev.byop.registry.RetryPolicy;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandler;
import java.net.http.HttpResponse.BodySubscribers;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends registry requests with authentication (basic, or bearer tokens from the realm a {@code WWW-Authenticate}
 * challenge names, cached per scope) and retries (connection errors and 5xx only, bounded by count and time).
 * Every failure becomes a {@link RegistryException} that names the registry and never a credential.
 */
public final class RegistryTransport {
  private static final Logger LOG = LoggerFactory.getLogger(RegistryTransport.class);
  private static final int MAX_ERROR_BODY = 8192;

  private final HttpClient http;
  private final URI base;
  private final String registry;
  private final Supplier<Optional<Credentials>> credentials;
  private final RetryPolicy retry;
  private final Duration requestTimeout;
  private final Clock clock;
  private final Map<String, Token> tokens = new ConcurrentHashMap<>();
  private volatile @Nullable Challenge bearer;
  private volatile boolean basic;
  private volatile @Nullable Optional<Credentials> resolved;

  /** A bearer token and when to stop using it. */
  record Token(String value, Instant expiresAt) {}

  /**
   * One request.
   *
   * @param scope the token scope it needs, e.g. {@code repository:shop/web:pull}; empty for none
   * @param body makes a fresh body for each attempt (so a retry resends it), or null for none
   * @param expected the statuses the caller handles; others become exceptions
   */
  public record Call(String method, URI uri, List<String> headers, @Nullable Supplier<HttpRequest.BodyPublisher> body,
      String scope, Set<Integer> expected, boolean retry) {
    public Call(String method, URI uri, List<String> headers, @Nullable Supplier<HttpRequest.BodyPublisher> body,
        String scope, Set<Integer> expected) {
      this(method, uri, headers, body, scope, expected, true);
    }

    public static Call of(String method, URI uri, String scope, Integer... expected) {
      return new Call(method, uri, List.of(), null, scope, Set.of(expected));
    }

    public Call withHeaders(String... nameValues) {
      List<String> h = new ArrayList<>(headers);
      h.addAll(List.of(nameValues));
      return new Call(method, uri, h, body, scope, expected, retry);
    }

    public Call withBody(Supplier<HttpRequest.BodyPublisher> b) {
      return new Call(method, uri, headers, b, scope, expected, retry);
    }

    /** For calls that are not safe to repeat blindly: the caller checks the registry's state and retries itself. */
    public Call withoutRetry() {
      return new Call(method, uri, headers, body, scope, expected, false);
    }
  }

  public RegistryTransport(HttpClient http, URI base, String registry, Supplier<Optional<Credentials>> credentials,
      RetryPolicy retry, Duration requestTimeout, Clock clock) {
    this.http = http;
    this.base = base;
    this.registry = registry;
    this.credentials = credentials;
    this.retry = retry;
    this.requestTimeout = requestTimeout;
    this.clock = clock;
  }

  public String registry() {
    return registry;
  }

  /** Resolves a path or a {@code Location} header (absolute or relative) against the registry. */
  public URI resolve(String pathOrUrl) {
    return base.resolve(pathOrUrl);
  }

  /** Sends the call; for an expected status the body goes to {@code handler}, any other status throws. */
  @SuppressWarnings("unchecked")
  public <T> HttpResponse<T> send(Call call, BodyHandler<T> handler) {
    BodyHandler<Object> wrapped = info -> call.expected().contains(info.statusCode())
        ? (HttpResponse.BodySubscriber<Object>) handler.apply(info)
        : BodySubscribers.mapping(BodySubscribers.ofByteArray(), b -> (Object) b);
    Instant start = clock.instant();
    for (int attempt = 1; ; attempt++) {
      HttpResponse<Object> response;
      try {
        response = sendAuthenticated(call, wrapped);
      } catch (IOException e) {
        if (!call.retry() || !mayRetry(attempt, start)) {
          throw new RegistryException(registry, 0, List.of(), describe(call) + " failed after " + attempt
              + " attempt(s): " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()),
              e);
        }
        pause(call, attempt, e.toString());
        continue;
      }
      int status = response.statusCode();
      if (call.expected().contains(status)) return (HttpResponse<T>) response;
      if (status >= 500 && call.retry() && mayRetry(attempt, start)) {
        pause(call, attempt, "HTTP " + status);
        continue;
      }
      throw failure(call, status, (byte[]) response.body(), attempt);
    }
  }

  /** Sends the call and returns the body as bytes for an expected status. */
  public HttpResponse<byte[]> sendForBytes(Call call) {
    return send(call, HttpResponse.BodyHandlers.ofByteArray());
  }

  /** Whether the retry policy allows another attempt after {@code attempt} attempts since {@code start}. */
  public boolean mayRetry(int attempt, Instant start) {
    if (attempt >= retry.maxAttempts()) return false;
    Duration next = retry.backoff(attempt);
    return Duration.between(start, clock.instant()).plus(next).compareTo(retry.maxElapsed()) <= 0;
  }

  public Instant now() {
    return clock.instant();
  }

  /** Waits the policy's backoff (with jitter) after {@code attempt} attempts. */
  public void pause(Call call, int attempt, String why) {
    long base = retry.backoff(attempt).toMillis();
    // jitter so that many clients do not retry in step
    long ms = base == 0 ? 0 : base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
    LOG.debug("registry {}: {} failed ({}), attempt {}, retrying in {} ms", registry, describe(call), why, attempt, ms);
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RegistryException(registry, 0, List.of(), describe(call) + " interrupted while waiting to retry", e);
    }
  }

  private HttpResponse<Object> sendAuthenticated(Call call, BodyHandler<Object> handler) throws IOException {
    String auth = authorizationFor(call.scope());
    HttpResponse<Object> response = exchange(call, auth, handler);
    if (response.statusCode() != 401 || call.expected().contains(401)) return response;
    Optional<Challenge> challenge = Challenge.select(response.headers().allValues("WWW-Authenticate"));
    if (challenge.isEmpty()) return response;
    Challenge c = challenge.get();
    String retryAuth = null;
    if (c.isBearer()) {
      // one new token per call: a cached token may have expired or lack a scope the challenge names (a mount
      // needs pull on the source repository too); a second 401 is final
      bearer = c;
      List<String> scopes = c.scopes().isEmpty() ? scopeList(call.scope()) : c.scopes();
      Token t = fetchToken(c, scopes);
      tokens.put(tokenKey(c, call.scope()), t);
      retryAuth = "Bearer " + t.value();
    } else if (c.isBasic()) {
      Optional<Credentials> creds = credentials();
      if (auth != null && auth.startsWith("Basic ")) return response; // the credentials were refused
      if (creds.isEmpty() || creds.get().isIdentityToken()) return response;
      basic = true;
      retryAuth = basicHeader(creds.get());
    }
    if (retryAuth == null) return response;
    return exchange(call, retryAuth, handler);
  }

  private @Nullable String authorizationFor(String scope) throws IOException {
    if (basic) {
      Optional<Credentials> creds = credentials();
      return creds.map(RegistryTransport::basicHeader).orElse(null);
    }
    Challenge c = bearer;
    if (c == null) return null;
    String key = tokenKey(c, scope);
    Token t = tokens.get(key);
    if (t != null && t.expiresAt().isAfter(clock.instant())) return "Bearer " + t.value();
    // we know the realm already: ask for the scope we expect instead of waiting for the challenge
    t = fetchToken(c, scopeList(scope));
    tokens.put(key, t);
    return "Bearer " + t.value();
  }

  private static String tokenKey(Challenge c, String scope) {
    return c.param("realm") + " " + c.param("service") + " " + scope;
  }

  private static List<String> scopeList(String scope) {
    return scope.isEmpty() ? List.of() : List.of(scope);
  }

  private Optional<Credentials> credentials() {
    Optional<Credentials> r = resolved;
    if (r == null) {
      r = credentials.get();
      resolved = r;
    }
    return r;
  }

  private static String basicHeader(Credentials c) {
    String pair = c.username() + ":" + c.secret().reveal();
    return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
  }

  private HttpResponse<Object> exchange(Call call, @Nullable String authorization, BodyHandler<Object> handler)
      throws IOException {
    HttpRequest.Builder b = HttpRequest.newBuilder(call.uri()).timeout(requestTimeout);
    List<String> h = call.headers();
    for (int i = 0; i + 1 < h.size(); i += 2) b.header(h.get(i), h.get(i + 1));
    if (authorization != null) b.header("Authorization", authorization);
    Supplier<HttpRequest.BodyPublisher> body = call.body();
    b.method(call.method(), body == null ? HttpRequest.BodyPublishers.noBody() : body.get());
    try {
      return http.send(b.build(), handler);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RegistryException(registry, 0, List.of(), describe(call) + " interrupted", e);
    }
  }

  /** Gets a token from the realm of a bearer challenge; the realm's own failures are retried like any call. */
  private Token fetchToken(Challenge c, List<String> scopes) {
    String realm = c.param("realm");
    if (realm == null || !(realm.startsWith("https://") || realm.startsWith("http://"))) {
      throw new RegistryException(registry, 401, List.of("UNAUTHORIZED"),
          "registry " + registry + " announced a bearer challenge without an http(s) realm", null);
    }
    String service = c.param("service");
    Optional<Credentials> creds = credentials();
    HttpResponse<byte[]> r;
    URI realmUri = URI.create(realm);
    String what = "token request to " + realmUri.getScheme() + "://" + realmUri.getAuthority() + realmUri.getPath();
    if (creds.isPresent() && creds.get().isIdentityToken()) {
      // OAuth2 refresh-token grant, as docker does with an identity token
      StringBuilder form = new StringBuilder("grant_type=refresh_token&client_id=byop");
      if (service != null) form.append("&service=").append(enc(service));
      if (!scopes.isEmpty()) form.append("&scope=").append(enc(String.join(" ", scopes)));
      form.append("&refresh_token=").append(enc(creds.get().secret().reveal()));
      String f = form.toString();
      r = tokenCall(new Call("POST", realmUri, List.of("Content-Type", "application/x-www-form-urlencoded"),
          () -> HttpRequest.BodyPublishers.ofString(f), "", Set.of(200)), null, what);
    } else {
      StringBuilder q = new StringBuilder();
      if (service != null) q.append("service=").append(enc(service));
      for (String s : scopes) q.append(q.length() == 0 ? "" : "&").append("scope=").append(enc(s));
      URI uri = URI.create(realm + (q.length() == 0 ? "" : (realm.contains("?") ? "&" : "?") + q));
      r = tokenCall(Call.of("GET", uri, "", 200), creds.map(RegistryTransport::basicHeader).orElse(null), what);
    }
    JsonNode json;
    try {
      json = Json.tree(r.body());
    } catch (RuntimeException e) {
      throw new RegistryException(registry, r.statusCode(), List.of(), what + " answered with no JSON token", null);
    }
    String token = json.hasNonNull("token") ? json.get("token").asText() : json.path("access_token").asText("");
    if (token.isEmpty()) {
      throw new RegistryException(registry, r.statusCode(), List.of(), what + " answered without a token", null);
    }
    long expiresIn = json.path("expires_in").asLong(60);
    if (expiresIn < 60) expiresIn = 60; // the token spec's minimum; shorter values are treated as 60
    // renew a little early so that a token does not expire between our check and the registry's
    Instant expires = clock.instant().plusSeconds(expiresIn - Math.max(5, expiresIn / 10));
    return new Token(token, expires);
  }

  private HttpResponse<byte[]> tokenCall(Call call, @Nullable String authorization, String what) {
    Instant start = clock.instant();
    for (int attempt = 1; ; attempt++) {
      HttpResponse<byte[]> r;
      try {
        HttpRequest.Builder b = HttpRequest.newBuilder(call.uri()).timeout(requestTimeout);
        List<String> h = call.headers();
        for (int i = 0; i + 1 < h.size(); i += 2) b.header(h.get(i), h.get(i + 1));
        if (authorization != null) b.header("Authorization", authorization);
        Supplier<HttpRequest.BodyPublisher> body = call.body();
        b.method(call.method(), body == null ? HttpRequest.BodyPublishers.noBody() : body.get());
        r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
      } catch (IOException e) {
        if (!mayRetry(attempt, start)) {
          throw new RegistryException(registry, 0, List.of(), "registry " + registry + ": " + what + " failed: "
              + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()), e);
        }
        pause(call, attempt, e.toString());
        continue;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RegistryException(registry, 0, List.of(), what + " interrupted", e);
      }
      if (r.statusCode() == 200) return r;
      if (r.statusCode() >= 500 && mayRetry(attempt, start)) {
        pause(call, attempt, "HTTP " + r.statusCode());
        continue;
      }
      ErrorBody err = ErrorBody.parse(r.body());
      String refused = r.statusCode() == 401 || r.statusCode() == 403 ? " (credentials refused)" : "";
      throw new RegistryException(registry, r.statusCode(), codes(err, r.statusCode()),
          redact("registry " + registry + ": " + what + " failed: HTTP " + r.statusCode() + refused + err.summary()),
          null);
    }
  }

  private static List<String> codes(ErrorBody err, int status) {
    if (!err.codes().isEmpty()) return err.codes();
    return status == 401 ? List.of("UNAUTHORIZED") : List.of();
  }

  private RegistryException failure(Call call, int status, byte[] body, int attempts) {
    ErrorBody err = ErrorBody.parse(body);
    StringBuilder m = new StringBuilder(describe(call)).append(" failed: HTTP ").append(status);
    String reason = reason(status);
    if (!reason.isEmpty()) m.append(' ').append(reason);
    m.append(err.summary());
    if (attempts > 1) m.append(" after ").append(attempts).append(" attempts");
    return new RegistryException(registry, status, codes(err, status), redact(m.toString()), null);
  }

  /** Belt and braces: registries do not echo credentials, but a message must never carry one. */
  private String redact(String message) {
    Optional<Credentials> r = resolved;
    if (r == null || r.isEmpty()) return message;
    String secret = r.get().secret().reveal();
    return secret.length() < 3 ? message : message.replace(secret, "******");
  }

  private String describe(Call call) {
    // the path only: upload URLs carry opaque state in their query
    return "registry " + registry + ": " + call.method() + " " + call.uri().getRawPath();
  }

  private static String reason(int status) {
    return switch (status) {
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 409 -> "Conflict";
      case 416 -> "Range Not Satisfiable";
      case 429 -> "Too Many Requests";
      case 500 -> "Internal Server Error";
      case 502 -> "Bad Gateway";
      case 503 -> "Service Unavailable";
      case 504 -> "Gateway Timeout";
      default -> "";
    };
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** The registry's JSON error document: {@code {"errors":[{"code":…,"message":…,"detail":…}]}}. */
  record ErrorBody(List<String> codes, List<String> messages) {
    static ErrorBody parse(byte[] body) {
      List<String> codes = new ArrayList<>();
      List<String> messages = new ArrayList<>();
      if (body.length == 0 || body.length > 1 << 20) return new ErrorBody(codes, messages);
      try {
        JsonNode errors = Json.tree(body).path("errors");
        for (JsonNode e : errors) {
          if (e.hasNonNull("code")) codes.add(e.get("code").asText());
          if (e.hasNonNull("message")) messages.add(e.get("message").asText());
        }
      } catch (RuntimeException notJson) {
        // a proxy's HTML page or plain text: no codes
      }
      return new ErrorBody(codes, messages);
    }

    String summary() {
      if (codes.isEmpty()) return "";
      StringBuilder b = new StringBuilder(" [");
      for (int i = 0; i < codes.size(); i++) {
        if (i > 0) b.append(", ");
        b.append(codes.get(i));
        if (i < messages.size() && !messages.get(i).isEmpty()) b.append(": ").append(messages.get(i));
      }
      String s = b.append(']').toString();
      return s.length() > MAX_ERROR_BODY ? s.substring(0, MAX_ERROR_BODY) + "…]" : s;
    }
  }
}
