package dev.byop.preview.compose;

/** A compose service's restart policy, written as compose spells it. */
public enum RestartPolicy {
  NO("no"), ALWAYS("always"), ON_FAILURE("on-failure"), UNLESS_STOPPED("unless-stopped");

  private final String compose;

  RestartPolicy(String compose) {
    this.compose = compose;
  }

  /** The value in a compose file, e.g. {@code unless-stopped}. */
  public String composeValue() {
    return compose;
  }
}
