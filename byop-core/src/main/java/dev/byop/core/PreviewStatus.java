package dev.byop.core;

import java.util.EnumSet;
import java.util.Set;

/**
 * The life of a preview: BUILDING → DEPLOYING → RUNNING. BUILDING, DEPLOYING and RUNNING may end FAILED; RUNNING and
 * FAILED may go back to BUILDING when the preview is redeployed for a new commit. Anything but STOPPED may be torn
 * down: it moves to STOPPING, a recorded state that a worker finishes (after a crash too) and that reaches STOPPED only
 * once nothing of the preview runs and its host slot is released. FAILED also means nothing of it runs: a preview that
 * fails is torn down before it is recorded FAILED (if that tear-down fails, its error says so and a delete retries it).
 * STOPPED is final.
 */
public enum PreviewStatus {
  BUILDING, DEPLOYING, RUNNING, FAILED, STOPPING, STOPPED;

  /** The statuses this one may move to. */
  public Set<PreviewStatus> next() {
    return switch (this) {
      case BUILDING -> EnumSet.of(DEPLOYING, FAILED, STOPPING);
      case DEPLOYING -> EnumSet.of(RUNNING, FAILED, STOPPING);
      case RUNNING -> EnumSet.of(BUILDING, FAILED, STOPPING);
      case FAILED -> EnumSet.of(BUILDING, STOPPING);
      case STOPPING -> EnumSet.of(STOPPED);
      case STOPPED -> EnumSet.noneOf(PreviewStatus.class);
    };
  }

  public boolean canMoveTo(PreviewStatus to) {
    return next().contains(to);
  }

  /** Throws {@link IllegalTransitionException} unless this status may move to {@code to}. */
  public void checkMoveTo(PreviewStatus to, String subject) {
    if (!canMoveTo(to)) throw new IllegalTransitionException(subject, this, to);
  }

  /** Work is under way: BUILDING or DEPLOYING. */
  public boolean isInProgress() {
    return this == BUILDING || this == DEPLOYING;
  }

  /** A worker holds or will take it: BUILDING, DEPLOYING or STOPPING (the statuses that are claimed with a lease). */
  public boolean isClaimable() {
    return isInProgress() || this == STOPPING;
  }
}
