/** A JDBC store for byop (H2 embedded by default, PostgreSQL). */
@NullMarked
package dev.byop.store.jdbc;

import org.jspecify.annotations.NullMarked;
