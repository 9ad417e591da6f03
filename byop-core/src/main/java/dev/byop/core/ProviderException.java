package dev.byop.core;

import java.util.List;

/** No provider fits (or the chosen one failed to start); lists every candidate and why it was rejected. */
public class ProviderException extends ByopException {
  private static final long serialVersionUID = 1L;
  private final String kind;
  private final List<Rejection> rejections;

  /** One candidate that was not chosen and the reason. */
  public record Rejection(String id, String reason) {}

  public ProviderException(String kind, String message, List<Rejection> rejections) {
    super(format(kind, message, rejections));
    this.kind = kind;
    this.rejections = List.copyOf(rejections);
  }

  public ProviderException(String kind, String message, Throwable cause) {
    super(kind + ": " + message, cause);
    this.kind = kind;
    this.rejections = List.of();
  }

  private static String format(String kind, String message, List<Rejection> rejections) {
    StringBuilder b = new StringBuilder(kind).append(": ").append(message);
    if (rejections.isEmpty()) {
      b.append(" (no candidates registered or discovered)");
    }
    for (Rejection r : rejections) {
      b.append("\n  - ").append(r.id()).append(": ").append(r.reason());
    }
    return b.toString();
  }

  /** The kind of provider asked for, e.g. {@code image-builder}. */
  public String kind() {
    return kind;
  }

  /** Every candidate and why it was rejected, in the order they were considered. */
  public List<Rejection> rejections() {
    return rejections;
  }
}
