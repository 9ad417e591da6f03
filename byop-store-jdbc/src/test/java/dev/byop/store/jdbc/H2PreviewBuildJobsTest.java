package dev.byop.store.jdbc;

/** The preview manager's build jobs on the embedded H2 store. */
class H2PreviewBuildJobsTest extends PreviewBuildJobsContract {
  @Override
  protected TestDatabases.Db newDb() {
    return TestDatabases.h2();
  }
}
