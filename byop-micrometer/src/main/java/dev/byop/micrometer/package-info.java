/**
 * Micrometer meters for byop ({@link dev.byop.micrometer.ByopMetrics}), an optional module: byop-core does not
 * depend on Micrometer.
 */
@NullMarked
package dev.byop.micrometer;

import org.jspecify.annotations.NullMarked;
