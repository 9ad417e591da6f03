package dev.byop.docker;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A response whose body is read as a stream; closing it closes the connection.
 *
 * @param status HTTP status code
 * @param headers header values by lower-case name
 * @param body the decoded (de-chunked) body
 */
public record DockerResponse(int status, Map<String, List<String>> headers, InputStream body)
    implements AutoCloseable {

  /** The first value of a header (name in any case). */
  public Optional<String> header(String name) {
    List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
    return v == null || v.isEmpty() ? Optional.empty() : Optional.of(v.get(0));
  }

  /** Reads the whole body as UTF-8. */
  public String bodyAsString() {
    try (InputStream in = body) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      body.close();
    } catch (IOException e) {
      // closing a socket we are done with; nothing to report
    }
  }
}
