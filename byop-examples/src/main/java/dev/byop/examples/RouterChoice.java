package dev.byop.examples;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Remembers which router the main job chose for a data directory, so that {@code stop} and {@code serve} tear down
 * and deploy previews through the same one (a route added to Caddy must be removed from Caddy).
 */
final class RouterChoice {
  private static final String FILE = "example-router.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private RouterChoice() {}

  static void save(Path dataDir, Map<String, Object> settings) {
    try {
      Files.createDirectories(dataDir);
      JSON.writerWithDefaultPrettyPrinter().writeValue(dataDir.resolve(FILE).toFile(), settings);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dataDir.resolve(FILE), e);
    }
  }

  static Optional<Map<String, Object>> load(Path dataDir) {
    Path f = dataDir.resolve(FILE);
    if (!Files.isRegularFile(f)) return Optional.empty();
    try {
      return Optional.of(JSON.readValue(f.toFile(), new TypeReference<Map<String, Object>>() { }));
    } catch (IOException e) {
      return Optional.empty(); // unreadable: choose again
    }
  }
}
