package dev.byop.testing;

import java.sql.Connection;
import java.sql.SQLException;

/** A fresh database in the bed's PostgreSQL cluster, dropped (with any open sessions) on {@link #close()}. */
public final class TestDatabase implements AutoCloseable {

  private final Testbed.Postgres postgres;
  private final String name;
  private boolean closed;

  TestDatabase(Testbed.Postgres postgres, String name) {
    this.postgres = postgres;
    this.name = name;
  }

  /** The database name ({@code t_<hint>_<random>}). */
  public String name() {
    return name;
  }

  /** The JDBC URL of this database. */
  public String jdbcUrl() {
    return postgres.jdbcUrl(name);
  }

  /** The user that owns the database. */
  public String user() {
    return postgres.user();
  }

  /** That user's password. */
  public String password() {
    return postgres.password();
  }

  /** Opens a connection to this database. */
  public Connection connect() throws SQLException {
    return postgres.connect(jdbcUrl());
  }

  /** Drops the database; safe to call twice. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try (Connection c = postgres.connect(); var st = c.createStatement()) {
      // FORCE ends sessions a test left open (PostgreSQL 13+); the name is [a-z0-9_] only
      st.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    } catch (SQLException e) {
      throw new TestbedUnavailableException("cannot drop test database " + name + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "TestDatabase[" + jdbcUrl() + "]";
  }
}
