package dev.byop.buildkit.internal;

import dev.byop.buildkit.internal.proto.HealthCheckRequest;
import dev.byop.buildkit.internal.proto.HealthCheckResponse;
import dev.byop.buildkit.internal.proto.HealthGrpc;
import io.grpc.stub.StreamObserver;

/** Answers the daemon's health polls; one failed poll makes it drop the session. */
public final class HealthService extends HealthGrpc.HealthImplBase {
  @Override
  public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> out) {
    out.onNext(HealthCheckResponse.newBuilder().setStatus(HealthCheckResponse.ServingStatus.SERVING).build());
    out.onCompleted();
  }
}
