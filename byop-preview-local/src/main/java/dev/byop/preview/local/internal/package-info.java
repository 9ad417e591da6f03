/** Process running and Compose invocation behind the local deployer; not API. */
@NullMarked
package dev.byop.preview.local.internal;

import org.jspecify.annotations.NullMarked;
