/** The Jdbi store and its start-up (pool, migrations); not an API, may change in any release. */
@NullMarked
package dev.byop.store.jdbc.internal;

import org.jspecify.annotations.NullMarked;
