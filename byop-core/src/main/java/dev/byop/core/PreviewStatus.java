package dev.byop.core;

import java.util.EnumSet;
import java.util.Set;

/**
 * The life of a preview, as the seed draws it: BUILDING → DEPLOYING → RUNNING. BUILDING, DEPLOYING and RUNNING may
 * end FAILED; anything but STOPPED may be torn down to STOPPED; RUNNING and FAILED may go back to BUILDING when the
 * preview is redeployed for a new commit. STOPPED is final.
 */
public enum PreviewStatus {
  BUILDING, DEPLOYING, RUNNING, FAILED, STOPPED;

  /** The statuses this one may move to. */
  public Set<PreviewStatus> next() {
    return switch (this) {
      case BUILDING -> EnumSet.of(DEPLOYING, FAILED, STOPPED);
      case DEPLOYING -> EnumSet.of(RUNNING, FAILED, STOPPED);
      case RUNNING -> EnumSet.of(BUILDING, FAILED, STOPPED);
      case FAILED -> EnumSet.of(BUILDING, STOPPED);
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
}
