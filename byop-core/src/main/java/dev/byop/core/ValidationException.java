package dev.byop.core;

import org.jspecify.annotations.Nullable;

/** Bad input: names the offending field, the rejected value (never a secret) and the rule it broke. */
public class ValidationException extends ByopException {
  private static final long serialVersionUID = 1L;
  private final String field;
  private final @Nullable String value;
  private final String rule;

  public ValidationException(String field, @Nullable Object value, String rule) {
    super("invalid " + field + (value == null ? "" : " '" + value + "'") + ": " + rule);
    this.field = field;
    this.value = value == null ? null : String.valueOf(value);
    this.rule = rule;
  }

  /** The field that was rejected, e.g. {@code component.name}. */
  public String field() {
    return field;
  }

  /** The rejected value as text, or null when it was absent or must not be shown. */
  public @Nullable String value() {
    return value;
  }

  /** The rule the value broke, in words. */
  public String rule() {
    return rule;
  }
}
