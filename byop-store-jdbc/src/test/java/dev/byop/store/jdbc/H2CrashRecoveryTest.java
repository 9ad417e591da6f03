package dev.byop.store.jdbc;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.h2.tools.Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Crash recovery on H2, shared with the child JVM through an H2 TCP server on loopback. */
class H2CrashRecoveryTest extends CrashRecoveryContract {
  private static Server server;
  private static Path dir;
  private static int port;
  private static int n;

  @BeforeAll
  static void startServer() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    dir = Files.createTempDirectory("byop-h2-tcp");
    server = Server.createTcpServer("-tcpPort", String.valueOf(port), "-ifNotExists")
        .start();
  }

  @AfterAll
  static void stopServer() {
    if (server != null) server.stop();
  }

  @Override
  protected TestDatabases.Db newDb() {
    return TestDatabases.h2Tcp(port, dir.resolve("db" + (++n)));
  }
}
