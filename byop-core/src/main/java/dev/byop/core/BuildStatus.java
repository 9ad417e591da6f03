package dev.byop.core;

import java.util.EnumSet;
import java.util.Set;

/**
 * The life of a build job, as the seed draws it: PENDING → FETCHING → BUILDING → PUSHING → SUCCESS, with BUILDING →
 * SUCCESS when no registry is configured (the image stays in the local engine). Any running state may end FAILED or
 * CANCELLED, or go back to PENDING when its worker's lease expired and it will be retried; PENDING may end CANCELLED,
 * or FAILED when it can never run. SUCCESS, FAILED and CANCELLED are final.
 */
public enum BuildStatus {
  PENDING, FETCHING, BUILDING, PUSHING, SUCCESS, FAILED, CANCELLED;

  /** The statuses this one may move to. */
  public Set<BuildStatus> next() {
    return switch (this) {
      case PENDING -> EnumSet.of(FETCHING, FAILED, CANCELLED);
      case FETCHING -> EnumSet.of(BUILDING, FAILED, CANCELLED, PENDING);
      case BUILDING -> EnumSet.of(PUSHING, SUCCESS, FAILED, CANCELLED, PENDING);
      case PUSHING -> EnumSet.of(SUCCESS, FAILED, CANCELLED, PENDING);
      case SUCCESS, FAILED, CANCELLED -> EnumSet.noneOf(BuildStatus.class);
    };
  }

  public boolean canMoveTo(BuildStatus to) {
    return next().contains(to);
  }

  /** Throws {@link IllegalTransitionException} unless this status may move to {@code to}. */
  public void checkMoveTo(BuildStatus to, String subject) {
    if (!canMoveTo(to)) throw new IllegalTransitionException(subject, this, to);
  }

  public boolean isTerminal() {
    return this == SUCCESS || this == FAILED || this == CANCELLED;
  }

  /** A worker holds the job: FETCHING, BUILDING or PUSHING. */
  public boolean isRunning() {
    return this == FETCHING || this == BUILDING || this == PUSHING;
  }
}
