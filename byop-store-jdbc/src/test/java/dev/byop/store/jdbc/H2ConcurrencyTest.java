package dev.byop.store.jdbc;

/** Four instances on one embedded H2 database (1,000 jobs: H2 serialises claims, which keeps the suite short). */
class H2ConcurrencyTest extends ConcurrencyContract {
  @Override
  protected int jobs() {
    return 1000;
  }

  @Override
  protected TestDatabases.Db newDb() {
    return TestDatabases.h2();
  }
}
