package dev.byop.core.internal;

import dev.byop.core.LogLine;
import dev.byop.core.spi.LogStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A log store in memory, for unit tests of the log hub's own logic (the real stores are tested in their modules). */
final class InMemoryLogStore implements LogStore {
  private final Map<String, List<LogLine>> logs = new HashMap<>();

  @Override
  public synchronized long appendLog(String ownerId, List<String> lines, Instant time) {
    List<LogLine> l = logs.computeIfAbsent(ownerId, k -> new ArrayList<>());
    for (String s : lines) l.add(new LogLine(ownerId, l.size() + 1, time, s));
    return l.size();
  }

  @Override
  public synchronized List<LogLine> readLog(String ownerId, long afterSeq, int limit) {
    List<LogLine> l = logs.getOrDefault(ownerId, List.of());
    List<LogLine> out = new ArrayList<>();
    for (int i = (int) afterSeq; i < l.size() && out.size() < limit; i++) out.add(l.get(i));
    return out;
  }
}
