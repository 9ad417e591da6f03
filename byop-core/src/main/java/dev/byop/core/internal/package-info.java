/** byop's own machinery (orchestration, listeners, validation); not an API, may change in any release. */
@NullMarked
package dev.byop.core.internal;

import org.jspecify.annotations.NullMarked;
