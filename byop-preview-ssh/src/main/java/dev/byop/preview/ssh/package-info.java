/** Remote preview environments over SSH, with cloud providers. */
@NullMarked
package dev.byop.preview.ssh;

import org.jspecify.annotations.NullMarked;
