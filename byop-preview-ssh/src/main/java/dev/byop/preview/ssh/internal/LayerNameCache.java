package dev.byop.preview.ssh.internal;

import org.jspecify.annotations.Nullable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.AbstractMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which {@code docker save} layer file ({@code <v1-id>/layer.tar}) holds which diff id, optionally kept in a file so a
 * restarted process need not re-read images to learn it. Both sides are content-derived, so entries never go stale.
 */
public final class LayerNameCache extends AbstractMap<String, String> {

  private static final Logger LOG = LoggerFactory.getLogger(LayerNameCache.class);
  private static final Pattern LINE = Pattern.compile("[0-9a-f]{64} sha256:[0-9a-f]{64}");

  private final Map<String, String> map = new ConcurrentHashMap<>();
  private final @Nullable Path file;

  /** In memory only. */
  public LayerNameCache() {
    this.file = null;
  }

  /** Backed by {@code file} (created when absent; unparsable lines are ignored). */
  public LayerNameCache(Path file) {
    this.file = file;
    try {
      if (Files.exists(file)) {
        for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          if (LINE.matcher(l).matches()) {
            map.put(l.substring(0, 64), l.substring(65));
          }
        }
      } else if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("layer name cache " + file + " unreadable", e);
    }
  }

  @Override
  public String get(Object key) {
    return map.get(key);
  }

  @Override
  public boolean containsKey(Object key) {
    return map.containsKey(key);
  }

  @Override
  public synchronized String put(String v1Id, String diffId) {
    String old = map.put(v1Id, diffId);
    if (file != null && !diffId.equals(old)) {
      try {
        Files.writeString(file, v1Id + " " + diffId + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      } catch (IOException e) {
        LOG.warn("could not record layer name in {}: {}", file, e.getMessage());
      }
    }
    return old;
  }

  @Override
  public Set<Entry<String, String>> entrySet() {
    return map.entrySet();
  }
}
