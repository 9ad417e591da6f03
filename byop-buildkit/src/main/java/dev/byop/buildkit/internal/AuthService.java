package dev.byop.buildkit.internal;

import dev.byop.buildkit.internal.proto.AuthGrpc;
import dev.byop.buildkit.internal.proto.CredentialsRequest;
import dev.byop.buildkit.internal.proto.CredentialsResponse;
import dev.byop.core.Credentials;
import io.grpc.stub.StreamObserver;
import java.util.Optional;
import java.util.function.Function;

/**
 * Answers the daemon's registry credential questions (pulling base images, pushing with the {@code image}
 * exporter). {@code FetchToken} and {@code GetTokenAuthority} stay UNIMPLEMENTED, so the daemon fetches tokens itself.
 */
public final class AuthService extends AuthGrpc.AuthImplBase {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AuthService.class);
  private final Function<String, Optional<Credentials>> lookup;

  public AuthService(Function<String, Optional<Credentials>> lookup) {
    this.lookup = lookup;
  }

  @Override
  public void credentials(CredentialsRequest request, StreamObserver<CredentialsResponse> out) {
    Optional<Credentials> c;
    try {
      c = lookup.apply(request.getHost());
    } catch (RuntimeException e) {
      // anonymous rather than failing the build here; the daemon then reports the registry's 401
      LOG.warn("no registry credentials for {}: {}", request.getHost(), e.getMessage());
      c = Optional.empty();
    }
    CredentialsResponse.Builder b = CredentialsResponse.newBuilder();
    c.ifPresent(x -> b.setUsername(x.username()).setSecret(x.secret().reveal()));
    out.onNext(b.build());
    out.onCompleted();
  }
}
