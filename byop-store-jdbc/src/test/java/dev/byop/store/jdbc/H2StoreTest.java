package dev.byop.store.jdbc;

/** The store on embedded H2. */
class H2StoreTest extends StoreContract {
  @Override
  protected TestDatabases.Db newDb() {
    return TestDatabases.h2();
  }
}
