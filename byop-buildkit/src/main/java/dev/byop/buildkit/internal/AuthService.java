package dev.byop.buildkit.internal;

import dev.byop.buildkit.internal.proto.AuthGrpc;
import dev.byop.buildkit.internal.proto.CredentialsRequest;
import dev.byop.buildkit.internal.proto.CredentialsResponse;
import io.grpc.stub.StreamObserver;
import java.util.Optional;
import java.util.function.Function;

/**
 * Answers the daemon's registry credential questions (pulling base images, pushing with the {@code image}
 * exporter). {@code FetchToken} and {@code GetTokenAuthority} stay UNIMPLEMENTED, so the daemon fetches tokens itself.
 */
public final class AuthService extends AuthGrpc.AuthImplBase {
  /** A user name (empty for an identity token) and secret. */
  public record Creds(String username, String secret) {
    @Override
    public String toString() {
      return "Creds[username=" + username + ", secret=***]";
    }
  }

  private final Function<String, Optional<Creds>> lookup;

  public AuthService(Function<String, Optional<Creds>> lookup) {
    this.lookup = lookup;
  }

  @Override
  public void credentials(CredentialsRequest request, StreamObserver<CredentialsResponse> out) {
    Optional<Creds> c;
    try {
      c = lookup.apply(request.getHost());
    } catch (RuntimeException e) {
      c = Optional.empty(); // anonymous rather than failing the build on a broken helper
    }
    CredentialsResponse.Builder b = CredentialsResponse.newBuilder();
    c.ifPresent(x -> b.setUsername(x.username()).setSecret(x.secret()));
    out.onNext(b.build());
    out.onCompleted();
  }
}
