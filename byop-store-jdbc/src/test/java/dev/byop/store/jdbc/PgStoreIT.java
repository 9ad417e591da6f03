package dev.byop.store.jdbc;

/** The store on the test bed's PostgreSQL. */
class PgStoreIT extends StoreContract {
  @Override
  protected TestDatabases.Db newDb() {
    return TestDatabases.postgres();
  }
}
