package dev.byop.store.jdbc;

/** Crash recovery on the test bed's PostgreSQL. */
class PgCrashRecoveryIT extends CrashRecoveryContract {
  @Override
  protected TestDatabases.Db newDb() {
    return TestDatabases.postgres();
  }
}
