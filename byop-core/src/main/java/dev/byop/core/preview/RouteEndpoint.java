package dev.byop.core.preview;

import java.net.URI;
import org.jspecify.annotations.Nullable;

/**
 * Where an active route answers.
 *
 * @param url the preview URL users open
 * @param probe where to send a request to check it answers (the router's own listener, which may differ from the
 *     URL when the host name does not resolve on this machine)
 * @param hostHeader the {@code Host} header to send to {@code probe}, or null to send the probe's own
 */
public record RouteEndpoint(String url, URI probe, @Nullable String hostHeader) {}
