package dev.byop.store.jdbc;

/** The preview manager's build jobs on the test bed's PostgreSQL. */
class PgPreviewBuildJobsIT extends PreviewBuildJobsContract {
  @Override
  protected TestDatabases.Db newDb() {
    return TestDatabases.postgres();
  }
}
