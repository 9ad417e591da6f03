package dev.byop.core;

/** A status change that the state machine does not allow; it is never applied silently. */
public class IllegalTransitionException extends ByopException {
  private static final long serialVersionUID = 1L;
  private final String subject;
  private final String from;
  private final String to;

  public IllegalTransitionException(String subject, Enum<?> from, Enum<?> to) {
    super("illegal transition of " + subject + ": " + from + " -> " + to);
    this.subject = subject;
    this.from = from.name();
    this.to = to.name();
  }

  /** The thing whose status was to change, e.g. {@code build job 42}. */
  public String subject() {
    return subject;
  }

  /** The status it had. */
  public String from() {
    return from;
  }

  /** The status that was refused. */
  public String to() {
    return to;
  }
}
