package dev.byop.buildkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.byop.buildkit.internal.proto.BuildkitVersion;
import dev.byop.buildkit.internal.proto.ControlGrpc;
import dev.byop.buildkit.internal.proto.InfoRequest;
import dev.byop.buildkit.internal.proto.InfoResponse;
import dev.byop.buildkit.internal.proto.ListWorkersRequest;
import dev.byop.buildkit.internal.proto.ListWorkersResponse;
import dev.byop.buildkit.internal.proto.Platform;
import dev.byop.buildkit.internal.proto.WorkerRecord;
import dev.byop.core.BuildException;
import dev.byop.core.spi.ImageBuilder.BuilderCapabilities;
import io.grpc.Server;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The standalone-buildkitd transports (unix:// and tcp:// with mutual TLS) against a stand-in Control server; no
 * buildkitd package exists on this machine, so the daemon side is a gRPC server speaking the same wire API.
 */
class StandaloneTransportTest {
  static final class FakeControl extends ControlGrpc.ControlImplBase {
    @Override
    public void listWorkers(ListWorkersRequest r, StreamObserver<ListWorkersResponse> out) {
      out.onNext(ListWorkersResponse.newBuilder().addRecord(WorkerRecord.newBuilder().setId("w1")
          .putLabels("org.mobyproject.buildkit.worker.executor", "oci")
          .addPlatforms(Platform.newBuilder().setOs("linux").setArchitecture("amd64"))
          .addPlatforms(Platform.newBuilder().setOs("linux").setArchitecture("arm").setVariant("v7"))).build());
      out.onCompleted();
    }

    @Override
    public void info(InfoRequest r, StreamObserver<InfoResponse> out) {
      out.onNext(InfoResponse.newBuilder().setBuildkitVersion(BuildkitVersion.newBuilder().setVersion("v0.99.0-fake"))
          .build());
      out.onCompleted();
    }
  }

  @Test
  void unixSocket(@TempDir Path dir) throws Exception {
    Path sock = dir.resolve("buildkitd.sock");
    EpollEventLoopGroup group = new EpollEventLoopGroup(1);
    Server server = NettyServerBuilder.forAddress(new DomainSocketAddress(sock.toString()))
        .channelType(EpollServerDomainSocketChannel.class).bossEventLoopGroup(group).workerEventLoopGroup(group)
        .addService(new FakeControl()).build().start();
    try (BuildKitClient c = BuildKitClient.connect(BuildKitEndpoint.parse("unix://" + sock, null))) {
      BuilderCapabilities caps = c.capabilities();
      assertEquals("v0.99.0-fake", caps.version());
      assertEquals(List.of("linux/amd64", "linux/arm/v7"), caps.platforms());
      assertTrue(caps.canPush(), "a standalone daemon pushes with the image exporter");
      assertEquals("oci", caps.details().get("executor"));
    } finally {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  @Test
  void tcpWithMutualTls(@TempDir Path dir) throws Exception {
    Path ca = dir.resolve("ca.pem");
    Path caKey = dir.resolve("ca.key");
    openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", caKey.toString(), "-out", ca.toString(), "-days", "2", "-subj", "/CN=byop-test-ca");
    Path server = cert(dir, "server", ca, caKey, "subjectAltName=DNS:buildkitd,IP:127.0.0.1");
    Path client = cert(dir, "client", ca, caKey, "extendedKeyUsage=clientAuth");
    Server s = NettyServerBuilder.forPort(0, TlsServerCredentials.newBuilder()
            .keyManager(server.toFile(), dir.resolve("server.key").toFile())
            .trustManager(ca.toFile()).clientAuth(TlsServerCredentials.ClientAuth.REQUIRE).build())
        .addService(new FakeControl()).build().start();
    try {
      BuildKitEndpoint.Tls tls = new BuildKitEndpoint.Tls(ca, client, dir.resolve("client.key"), "buildkitd");
      try (BuildKitClient c = BuildKitClient.connect(BuildKitEndpoint.parse("tcp://127.0.0.1:" + s.getPort(), tls))) {
        assertEquals("v0.99.0-fake", c.capabilities().version());
      }
      BuildKitEndpoint.Tls noClientCert = new BuildKitEndpoint.Tls(ca, null, null, "buildkitd");
      try (BuildKitClient c = BuildKitClient.connect(
          BuildKitEndpoint.parse("tcp://127.0.0.1:" + s.getPort(), noClientCert))) {
        BuildException e = assertThrows(BuildException.class, c::capabilities);
        assertTrue(e.getMessage().contains("127.0.0.1:" + s.getPort()), e.getMessage());
      }
    } finally {
      s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static Path cert(Path dir, String name, Path ca, Path caKey, String ext) {
    Path key = dir.resolve(name + ".key");
    Path csr = dir.resolve(name + ".csr");
    Path crt = dir.resolve(name + ".pem");
    openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
        key.toString(), "-out", csr.toString(), "-subj", "/CN=" + name);
    openssl(dir, "x509", "-req", "-in", csr.toString(), "-CA", ca.toString(), "-CAkey", caKey.toString(),
        "-CAcreateserial", "-out", crt.toString(), "-days", "2", "-extfile", writeExt(dir, name, ext).toString());
    return crt;
  }

  private static Path writeExt(Path dir, String name, String ext) {
    try {
      return java.nio.file.Files.writeString(dir.resolve(name + ".ext"), ext + "\n");
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  private static void openssl(Path dir, String... args) {
    String[] cmd = new String[args.length + 1];
    cmd[0] = "openssl";
    System.arraycopy(args, 0, cmd, 1, args.length);
    Cli.ok(dir, cmd);
  }

  @Test
  void endpointParsing() {
    assertEquals(BuildKitEndpoint.Kind.DOCKER, BuildKitEndpoint.parse("docker", null).kind());
    assertEquals(BuildKitEndpoint.Kind.DOCKER, BuildKitEndpoint.parse("docker+unix:///x.sock", null).kind());
    assertEquals(BuildKitEndpoint.Kind.UNIX, BuildKitEndpoint.parse("unix:///run/buildkit/buildkitd.sock", null).kind());
    assertEquals(BuildKitEndpoint.Kind.TCP, BuildKitEndpoint.parse("tcp://h:1234", null).kind());
    assertThrows(dev.byop.core.ValidationException.class, () -> BuildKitEndpoint.parse("tcp://h", null));
    assertThrows(dev.byop.core.ValidationException.class,
        () -> BuildKitEndpoint.parse("unix:///x", new BuildKitEndpoint.Tls(null, null, null, null)));
    assertThrows(dev.byop.core.ValidationException.class,
        () -> new BuildKitEndpoint.Tls(null, Path.of("c"), null, null));
  }
}
