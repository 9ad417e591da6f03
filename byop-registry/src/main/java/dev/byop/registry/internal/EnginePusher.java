package dev.byop.registry.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.byop.core.CancelledException;
import dev.byop.core.Credentials;
import dev.byop.core.ImageReference;
import dev.byop.core.RegistryException;
import dev.byop.core.spi.JobContext;
import dev.byop.docker.DockerClient;
import dev.byop.docker.DockerEndpoint;
import dev.byop.docker.DockerException;
import dev.byop.docker.DockerResponse;
import dev.byop.docker.ProgressMessage;
import dev.byop.docker.RegistryAuth;
import dev.byop.registry.RetryPolicy;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes through the Docker Engine that holds the image ({@code POST /images/{name}/push?tag=} with
 * {@code X-Registry-Auth}); the progress stream goes to the job log, one line per layer state change; engine errors
 * become {@link RegistryException}s with the status read from the engine's message. Connection failures and 5xx are
 * retried under the same policy as registry calls.
 */
public final class EnginePusher implements ImagePusher {
  private static final Logger LOG = LoggerFactory.getLogger(EnginePusher.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private final DockerClient docker;
  private final boolean ownsDocker;
  private final RetryPolicy retry;

  public EnginePusher(DockerClient docker, boolean ownsDocker, RetryPolicy retry) {
    this.docker = docker;
    this.ownsDocker = ownsDocker;
    this.retry = retry;
  }

  /** An engine client for {@code dockerHost} ({@code DOCKER_HOST} or the local socket when null). */
  public static EnginePusher create(@Nullable String dockerHost, RetryPolicy retry) {
    DockerClient d = dockerHost == null ? DockerClient.fromEnvironment()
        : DockerClient.connect(DockerEndpoint.parse(dockerHost));
    return new EnginePusher(d, true, retry);
  }

  @Override
  public @Nullable String push(String localImage, ImageReference target, @Nullable Credentials credentials,
      JobContext context) {
    String registry = target.registry();
    String name = target.name();
    String tag = Objects.requireNonNull(target.tag(), "tag");
    String secret = credentials == null ? null : credentials.secret().reveal();
    try {
      if (!localImage.equals(name + ":" + tag)) docker.tagImage(localImage, name, tag);
    } catch (DockerException e) {
      throw new RegistryException(registry, 0, List.of(), "cannot tag local image " + localImage + " as " + name + ":"
          + tag + " for the push: " + redact(e.getMessage(), secret), e);
    }
    RegistryAuth auth = credentials == null ? RegistryAuth.anonymous()
        : credentials.isIdentityToken() ? RegistryAuth.identityToken(credentials.secret().reveal(), registry)
        : RegistryAuth.basic(credentials.username(), credentials.secret().reveal(), registry);
    Instant start = Instant.now();
    for (int attempt = 1; ; attempt++) {
      context.cancellation().throwIfCancelled();
      Map<String, String> lastStatus = new HashMap<>();
      try {
        return pushOnce(name, tag, auth, context, p -> log(context, lastStatus, p, secret));
      } catch (DockerException e) {
        String engineMessage = redact(e.engineMessage().isEmpty() ? String.valueOf(e.getMessage()) : e.engineMessage(),
            secret);
        EngineErrors.Classified c = e.status() == 0 && e.engineMessage().isEmpty()
            ? new EngineErrors.Classified(0, List.of(), false) : EngineErrors.classify(engineMessage);
        boolean engineUnreachable = e.status() == 0 && e.engineMessage().isEmpty();
        if (c.transientFailure() && mayRetry(attempt, start)) {
          long ms = pause(attempt);
          context.log().line("push: attempt " + attempt + " failed (" + engineMessage + "), retrying in " + ms + " ms");
          continue;
        }
        String attempts = attempt > 1 ? " after " + attempt + " attempts" : "";
        String what = engineUnreachable ? "the Docker engine could not be reached: " + redact(e.getMessage(), secret)
            : "push of " + name + ":" + tag + " failed" + attempts
                + (c.status() > 0 ? " (HTTP " + c.status() + (c.status() == 401 ? " Unauthorized" : "") + ")" : "")
                + ": " + engineMessage;
        throw new RegistryException(registry, c.status(), c.codes(), "registry " + registry + ": " + what, e);
      }
    }
  }

  /**
   * One {@code POST /images/{name}/push}, read here rather than through {@link DockerClient#pushImage} so that a
   * cancelled job can close the connection (the engine then abandons the push) instead of waiting for a slow or
   * hanging registry.
   */
  private @Nullable String pushOnce(String name, String tag, RegistryAuth auth, JobContext context,
      Consumer<ProgressMessage> progress) {
    String path = "/images/" + name.replace("[", "%5B").replace("]", "%5D") + "/push?tag="
        + URLEncoder.encode(tag, StandardCharsets.UTF_8);
    String what = "push of " + name + ":" + tag;
    DockerResponse r = docker.execute("POST", path, Map.of("X-Registry-Auth", auth.toHeaderValue()), null);
    String digest = null;
    try (r; AutoCloseable cancel = context.cancellation().onCancel(r::close)) {
      if (r.status() / 100 != 2) {
        String body = new String(r.body().readNBytes(64 * 1024), StandardCharsets.UTF_8).trim();
        String message = body;
        try {
          message = JSON.readTree(body).path("message").asText(body);
        } catch (IOException notJson) {
          // plain text
        }
        throw new DockerException(r.status(), message, what + " failed with HTTP " + r.status() + ": " + message);
      }
      try (MappingIterator<JsonNode> it = JSON.readerFor(JsonNode.class).readValues(r.body())) {
        while (it.hasNextValue()) {
          JsonNode j = it.nextValue();
          if (j.hasNonNull("errorDetail") || j.hasNonNull("error")) {
            String m = j.path("errorDetail").path("message").asText(j.path("error").asText("unknown error"));
            throw new DockerException(200, m, what + " failed: " + m);
          }
          if (j.hasNonNull("aux")) {
            if (j.get("aux").hasNonNull("Digest")) digest = j.get("aux").get("Digest").asText();
            continue;
          }
          JsonNode d = j.path("progressDetail");
          progress.accept(new ProgressMessage(j.hasNonNull("id") ? j.get("id").asText() : null,
              j.path("status").asText(""), d.path("current").asLong(-1), d.path("total").asLong(-1)));
        }
      }
    } catch (DockerException e) {
      throw e;
    } catch (Exception e) {
      if (context.cancellation().isCancelled()) {
        throw new CancelledException(context.cancellation().reason());
      }
      throw new DockerException(200, e.toString(), what + ": the engine's progress stream broke: " + e, e);
    }
    context.cancellation().throwIfCancelled();
    if (digest == null) context.log().line("push: the engine reported no digest; the registry's answer is used");
    return digest;
  }

  private boolean mayRetry(int attempt, Instant start) {
    if (attempt >= retry.maxAttempts()) return false;
    return Duration.between(start, Instant.now()).plus(retry.backoff(attempt)).compareTo(retry.maxElapsed()) <= 0;
  }

  private long pause(int attempt) {
    long base = retry.backoff(attempt).toMillis();
    long ms = base == 0 ? 0 : base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CancelledException("interrupted while waiting to retry a push");
    }
    return ms;
  }

  /** One line per layer and state (not per progress tick), and every line without a layer id. */
  private static void log(JobContext context, Map<String, String> last, ProgressMessage p, @Nullable String secret) {
    String status = p.status().trim();
    if (status.isEmpty()) return;
    String id = p.id();
    if (id != null && status.equals(last.put(id, status))) return;
    String line = id == null ? status : id + ": " + status;
    context.log().line("push: " + redact(line, secret));
    LOG.trace("push progress {}", line);
  }

  private static String redact(@Nullable String text, @Nullable String secret) {
    if (text == null) return "";
    return secret == null || secret.length() < 3 ? text : text.replace(secret, "******");
  }

  @Override
  public void close() {
    if (ownsDocker) docker.close();
  }
}
