/** Entry points and value types of byop: {@link dev.byop.core.Byop}, the build orchestrator and the preview manager. */
@NullMarked
package dev.byop.core;

import org.jspecify.annotations.NullMarked;
