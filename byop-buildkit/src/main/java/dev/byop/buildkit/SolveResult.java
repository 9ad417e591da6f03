package dev.byop.buildkit;

import java.util.Map;
import java.util.Optional;

/**
 * What a finished build reports.
 *
 * @param exporterResponse the exporter's response map (e.g. {@code containerimage.digest})
 * @param contextBytesSent file content bytes this session uploaded (0 when the daemon already had everything)
 */
public record SolveResult(Map<String, String> exporterResponse, long contextBytesSent) {
  /** The image id (config digest) for {@code moby}, the manifest digest for {@code image}. */
  public Optional<String> imageDigest() {
    return Optional.ofNullable(exporterResponse.get("containerimage.digest"));
  }
}
