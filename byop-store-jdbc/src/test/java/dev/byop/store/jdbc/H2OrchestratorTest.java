package dev.byop.store.jdbc;

/** The orchestrator on the embedded H2 store. */
class H2OrchestratorTest extends OrchestratorContract {
  @Override
  protected TestDatabases.Db newDb() {
    return TestDatabases.h2();
  }
}
