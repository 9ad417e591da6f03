package dev.byop.store.jdbc;

/** Four instances on the test bed's PostgreSQL. */
class PgConcurrencyIT extends ConcurrencyContract {
  @Override
  protected TestDatabases.Db newDb() {
    return TestDatabases.postgres();
  }
}
