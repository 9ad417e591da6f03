package dev.byop.store.jdbc;

/** Four instances on one embedded H2 database. */
class H2ConcurrencyTest extends ConcurrencyContract {
  @Override
  protected TestDatabases.Db newDb() {
    return TestDatabases.h2();
  }
}
