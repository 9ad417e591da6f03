package dev.byop.preview.ssh;

import dev.byop.core.ValidationException;
import dev.byop.core.internal.Redactor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one retrying HTTP layer under byop's cloud API clients (OVH, Hetzner Cloud), on {@code java.net.http}.
 *
 * <p>An idempotent call (GET, PUT, DELETE) is sent again after HTTP 429, 500, 502, 503, 504, a connect failure or a
 * timeout, waiting an exponential back-off with full jitter (a random delay up to {@code first × 2ⁿ}, capped) or
 * longer when the answer says how long ({@code Retry-After} in seconds or as an HTTP date; on 429 without it,
 * {@code RateLimit-Reset} when {@code RateLimit-Remaining} is 0), within a bounded number of attempts and a total
 * window.
 *
 * <p>A create is never sent again blindly: only outcomes that prove the request was not acted on (429, no
 * connection) are retried as they are. After one that may have been acted on (5xx, a timeout or a connection lost
 * once the request was sent), the caller's {@code existing} lookup runs first (byop's marker and the idempotency token
 * the create carried) and a found instance is the result, so a retry never makes two instances.
 *
 * <p>What this layer logs and raises names the method and path only; every message passes the redactor holding the
 * client's credentials.
 */
final class CloudHttp {

  private static final Logger LOG = LoggerFactory.getLogger(CloudHttp.class);
  /** Answers after which a request is sent again (the server may have done nothing, or may have done it). */
  static final Set<Integer> RETRY_STATUS = Set.of(429, 500, 502, 503, 504);
  /** Largest answer body read; a cloud API answer is JSON of a few kilobytes. */
  static final int MAX_BODY = 8 * 1024 * 1024;

  /** One HTTP answer. */
  record Answer(int status, String body, HttpHeaders headers) {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    boolean ok() {
      return status / 100 == 2;
    }

    /** The body as JSON: a null node when empty, a text node when it is not JSON (an HTML error page, say). */
    com.fasterxml.jackson.databind.JsonNode json() {
      if (body.isBlank()) {
        return JSON.nullNode();
      }
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        return JSON.getNodeFactory().textNode(body);
      }
    }
  }

  /** Waits between attempts (tests record the waits instead of spending them). */
  @FunctionalInterface
  interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  private final String provider;
  private final HttpClient http;
  private final CloudRetry retry;
  private final Redactor redactor;
  private final Sleeper sleeper;
  private final Clock clock;
  /** The jitter's source; null: each calling thread's {@link ThreadLocalRandom}. */
  private final @Nullable RandomGenerator random;

  CloudHttp(String provider, CloudRetry retry, Redactor redactor) {
    // the back-off waits are seconds long on purpose: that is what the API asked for (Retry-After) or needs to recover
    this(provider, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build(), retry, redactor,
        d -> Thread.sleep(d.toMillis()), Clock.systemUTC(), null);
  }

  CloudHttp(String provider, HttpClient http, CloudRetry retry, Redactor redactor, Sleeper sleeper, Clock clock,
      @Nullable RandomGenerator random) {
    this.provider = Objects.requireNonNull(provider, "provider");
    this.http = Objects.requireNonNull(http, "http");
    this.retry = Objects.requireNonNull(retry, "retry");
    this.redactor = Objects.requireNonNull(redactor, "redactor");
    this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.random = random;
  }

  CloudRetry retry() {
    return retry;
  }

  Redactor redactor() {
    return redactor;
  }

  /**
   * Sends an idempotent request, made afresh for each attempt (signatures carry a timestamp); returns the first
   * answer that is not retried (a success or a definite error, for the caller to map), or the last one.
   *
   * @param stale an answer saying the request's signature went stale (OVH's clock): its hook has refreshed what the
   *     supplier signs with, and the request is sent once more at once
   */
  Answer send(String method, String path, Supplier<HttpRequest> request, Predicate<Answer> stale) {
    return run(method, path, request, stale, a -> a, true, null);
  }

  /**
   * Sends a request that is not idempotent and has no lookup: sent again only after outcomes proving it was not
   * acted on (429, no connection).
   */
  Answer sendOnce(String method, String path, Supplier<HttpRequest> request, Predicate<Answer> stale) {
    return run(method, path, request, stale, a -> a, false, null);
  }

  /**
   * Sends a create. After an outcome that may have made the instance, {@code existing} is asked before anything is
   * sent again, and its find is the result.
   *
   * @param accept maps an answer that is not retried (success or definite error) to the result, or raises
   */
  <T> T create(String method, String path, Supplier<HttpRequest> request, Predicate<Answer> stale,
      Function<Answer, T> accept, Supplier<Optional<T>> existing) {
    return run(method, path, request, stale, accept, false, Objects.requireNonNull(existing, "existing"));
  }

  private <T> T run(String method, String path, Supplier<HttpRequest> request, Predicate<Answer> stale,
      Function<Answer, T> accept, boolean idempotent, @Nullable Supplier<Optional<T>> existing) {
    long start = System.nanoTime();
    long sleptReal = 0;
    long sleptAsked = 0;
    boolean refreshed = false;
    boolean mayHaveActed = false;
    for (int attempt = 1; ; attempt++) {
      if (mayHaveActed && existing != null) {
        Optional<T> found = existing.get();
        if (found.isPresent()) {
          LOG.info("{} API {} {}: the earlier attempt did act; using what it made instead of sending it again", provider, method, path);
          return found.get();
        }
      }
      @Nullable Answer answer = null;
      @Nullable IOException failure = null;
      boolean sent = true;
      try {
        answer = exchange(request.get());
      } catch (HttpConnectTimeoutException | ConnectException e) {
        failure = e;
        sent = false; // no connection: nothing reached the server
      } catch (IOException e) {
        failure = e; // a read timeout or a connection lost after sending: the server may have acted
      }
      @Nullable Duration hint = null;
      if (answer != null) {
        if (answer.ok()) {
          return accept.apply(answer);
        }
        if (!refreshed && stale.test(answer)) {
          refreshed = true;
          attempt--;
          LOG.info("{} API {} {}: signature refused as stale, sending again with a fresh one", provider, method, path);
          continue;
        }
        if (!RETRY_STATUS.contains(answer.status())) {
          return accept.apply(answer);
        }
        if (answer.status() == 429) {
          sent = false; // refused by the rate limit, not acted on
        }
        hint = waitHint(answer);
      }
      boolean acted = sent && !idempotent;
      if (acted && existing == null) {
        // a create without a lookup cannot be known not to have acted: never sent twice
        if (answer != null) {
          return accept.apply(answer);
        }
        throw new CloudApiException(provider, method, path, "no answer, and it may have been acted on: not sent again ("
            + describe(failure) + ")", failure);
      }
      Duration delay = backoff(attempt, hint);
      long elapsed = System.nanoTime() - start - sleptReal + sleptAsked;
      boolean last = attempt >= retry.attempts();
      boolean overWindow = elapsed + delay.toNanos() > retry.window().toNanos();
      if (last || overWindow) {
        if (acted) {
          Optional<T> found = existing.get();
          if (found.isPresent()) {
            LOG.info("{} API {} {}: the last attempt did act; using what it made", provider, method, path);
            return found.get();
          }
        }
        String why = last ? attempt + " attempts" : (hint != null && hint.compareTo(retry.window()) >= 0
            ? "the server asks to wait " + hint.toSeconds() + " s, beyond the retry window of " + retry.window().toSeconds() + " s"
            : "the retry window of " + retry.window().toSeconds() + " s ends before the next attempt");
        if (answer != null) {
          LOG.warn("{} API {} {}: HTTP {} after {}; giving up", provider, method, path, answer.status(), why);
          return accept.apply(answer);
        }
        throw new CloudApiException(provider, method, path, "no answer after " + why + ": "
            + describe(failure), failure);
      }
      LOG.info("{} API {} {}: {}; attempt {} of {} in {} ms", provider, method, path,
          answer != null ? "HTTP " + answer.status() : describe(failure),
          attempt + 1, retry.attempts(), delay.toMillis());
      long before = System.nanoTime();
      try {
        sleeper.sleep(delay);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CloudApiException(provider, method, path, "interrupted while waiting to try again", e);
      }
      sleptReal += System.nanoTime() - before;
      sleptAsked += delay.toNanos();
      mayHaveActed = acted;
    }
  }

  private String describe(Throwable t) {
    String m = t.getMessage();
    return redactor.redact(t.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : " " + m));
  }

  /** Full jitter: a random delay in [0, min(maxDelay, first × 2^(failed-1))]; at least what the server asked. */
  Duration backoff(int failed, @Nullable Duration hint) {
    long first = retry.firstDelay().toMillis();
    long cap = failed > 30 ? retry.maxDelay().toMillis() : Math.min(retry.maxDelay().toMillis(), first << (failed - 1));
    RandomGenerator r = random != null ? random : ThreadLocalRandom.current();
    long jitter = cap <= 0 ? 0 : r.nextLong(cap + 1);
    Duration d = Duration.ofMillis(jitter);
    return hint != null && hint.compareTo(d) > 0 ? hint : d;
  }

  /** How long the answer asks to wait: {@code Retry-After} (seconds or an HTTP date), else Hetzner-style rate limit. */
  @Nullable Duration waitHint(Answer a) {
    Optional<String> after = a.headers().firstValue("Retry-After");
    if (after.isPresent()) {
      return retryAfter(after.get().strip(), clock.instant());
    }
    if (a.status() == 429 && a.headers().firstValue("RateLimit-Remaining").map(String::strip).orElse("").equals("0")) {
      Optional<String> reset = a.headers().firstValue("RateLimit-Reset");
      if (reset.isPresent() && reset.get().strip().matches("\\d{1,12}")) {
        long s = Long.parseLong(reset.get().strip()) - clock.instant().getEpochSecond();
        return Duration.ofSeconds(Math.max(0, s));
      }
    }
    return null;
  }

  /** {@code Retry-After}: delay-seconds or an HTTP-date (RFC 9110); null when it is neither. */
  static @Nullable Duration retryAfter(String value, Instant now) {
    if (value.matches("\\d{1,9}")) {
      return Duration.ofSeconds(Long.parseLong(value));
    }
    try {
      Instant at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      Duration d = Duration.between(now, at);
      return d.isNegative() ? Duration.ZERO : d;
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private Answer exchange(HttpRequest request) throws IOException {
    try {
      HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream in = r.body()) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[16 * 1024];
        int n;
        while ((n = in.read(buf)) >= 0) {
          if (out.size() + n > MAX_BODY) {
            throw new IOException("answer larger than " + MAX_BODY + " bytes");
          }
          out.write(buf, 0, n);
        }
        return new Answer(r.statusCode(), out.toString(StandardCharsets.UTF_8), r.headers());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CloudApiException(provider, request.method(), request.uri().getPath(), "interrupted", e);
    }
  }
}
