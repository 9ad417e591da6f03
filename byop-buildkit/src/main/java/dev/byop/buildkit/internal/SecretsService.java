package dev.byop.buildkit.internal;

import com.google.protobuf.ByteString;
import dev.byop.buildkit.internal.proto.GetSecretRequest;
import dev.byop.buildkit.internal.proto.GetSecretResponse;
import dev.byop.buildkit.internal.proto.SecretsGrpc;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/** Hands build secrets to {@code RUN --mount=type=secret}; they never travel as build args. */
public final class SecretsService extends SecretsGrpc.SecretsImplBase {
  private final Map<String, ? extends Object> ids;
  private final Function<String, byte @Nullable []> resolver;

  public SecretsService(Map<String, ? extends Object> ids, Function<String, byte @Nullable []> resolver) {
    this.ids = ids;
    this.resolver = resolver;
  }

  @Override
  public void getSecret(GetSecretRequest request, StreamObserver<GetSecretResponse> out) {
    byte[] data = ids.containsKey(request.getId()) ? resolver.apply(request.getId()) : null;
    if (data == null) {
      // the id is not a secret, so it may be named
      out.onError(Status.NOT_FOUND.withDescription("secret " + request.getId() + " not found").asRuntimeException());
      return;
    }
    out.onNext(GetSecretResponse.newBuilder().setData(ByteString.copyFrom(data)).build());
    out.onCompleted();
  }
}
