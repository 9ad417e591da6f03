package dev.byop.core.spi;

import dev.byop.core.LogLine;
import java.time.Instant;
import java.util.List;

/** Ordered log lines of build jobs and previews. */
public interface LogStore {
  /** Appends lines in order and returns the sequence number of the last one (numbers start at 1 per owner). */
  long appendLog(String ownerId, List<String> lines, Instant time);

  /** Up to {@code limit} lines with a sequence number greater than {@code afterSeq}, in order. */
  List<LogLine> readLog(String ownerId, long afterSeq, int limit);
}
