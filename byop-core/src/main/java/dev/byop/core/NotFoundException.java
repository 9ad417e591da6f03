package dev.byop.core;

/** An app, build job or preview with the given id does not exist. */
public class NotFoundException extends ByopException {
  private static final long serialVersionUID = 1L;
  private final String type;
  private final String id;

  public NotFoundException(String type, String id) {
    super(type + " '" + id + "' not found");
    this.type = type;
    this.id = id;
  }

  /** What was looked for: {@code app}, {@code build job}, {@code preview}. */
  public String type() {
    return type;
  }

  /** The id that was looked for. */
  public String id() {
    return id;
  }
}
