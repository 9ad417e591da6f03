package dev.byop.core;

import java.util.List;
import org.jspecify.annotations.Nullable;

/** A registry refused or failed a request; carries the registry host, HTTP status and the registry's error codes. */
public class RegistryException extends ByopException {
  private static final long serialVersionUID = 1L;
  private final String registry;
  private final int status;
  private final List<String> errorCodes;

  public RegistryException(String registry, int status, List<String> errorCodes, String message,
      @Nullable Throwable cause) {
    super(message, cause);
    this.registry = registry;
    this.status = status;
    this.errorCodes = List.copyOf(errorCodes);
  }

  /** The registry host (and port). */
  public String registry() {
    return registry;
  }

  /** The HTTP status, or 0 when no response was received. */
  public int status() {
    return status;
  }

  /** The registry's error codes, e.g. {@code UNAUTHORIZED}, {@code MANIFEST_UNKNOWN}. */
  public List<String> errorCodes() {
    return errorCodes;
  }
}
