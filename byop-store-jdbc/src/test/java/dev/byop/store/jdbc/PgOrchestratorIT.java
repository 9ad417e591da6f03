package dev.byop.store.jdbc;

/** The orchestrator on the test bed's PostgreSQL. */
class PgOrchestratorIT extends OrchestratorContract {
  @Override
  protected TestDatabases.Db newDb() {
    return TestDatabases.postgres();
  }
}
