package dev.byop.preview.compose;

import dev.byop.core.PreviewHostnames;
import dev.byop.core.internal.Checks;

/**
 * What a router routes for one preview: its host name to one service's container port.
 *
 * @param previewId the preview
 * @param hostname the DNS name requests arrive with ({@code Host} header)
 * @param service the compose service that receives them
 * @param containerPort the port that service listens on inside its container
 */
public record Route(String previewId, String hostname, String service, int containerPort) {
  public Route {
    Checks.notBlank("route.previewId", previewId);
    PreviewHostnames.checkHostname("route.hostname", hostname);
    Checks.dnsLabel("route.service", service);
    Checks.port("route.containerPort", containerPort);
  }
}
