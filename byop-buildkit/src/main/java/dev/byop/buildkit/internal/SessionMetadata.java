package dev.byop.buildkit.internal;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.List;

/** Makes the daemon's request metadata (DiffCopy's {@code dir-name}, patterns...) visible to service code. */
public final class SessionMetadata implements ServerInterceptor {
  static final Context.Key<Metadata> HEADERS = Context.key("byop-bk-headers");

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    return Contexts.interceptCall(Context.current().withValue(HEADERS, headers), call, headers, next);
  }

  /** All values of a metadata key for the current call. */
  static List<String> all(String key) {
    Metadata md = HEADERS.get();
    if (md == null) {
      return List.of();
    }
    Iterable<String> v = md.getAll(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
    if (v == null) {
      return List.of();
    }
    List<String> out = new java.util.ArrayList<>();
    v.forEach(out::add);
    return out;
  }
}
