package dev.byop.registry.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One authentication challenge from a {@code WWW-Authenticate} header (RFC 7235): a scheme and its parameters.
 * Hand-written because the JDK has no parser for it and the grammar is small.
 */
public record Challenge(String scheme, Map<String, String> params) {
  public Challenge {
    scheme = scheme.toLowerCase(Locale.ROOT);
    params = Map.copyOf(params);
  }

  public boolean isBearer() {
    return scheme.equals("bearer");
  }

  public boolean isBasic() {
    return scheme.equals("basic");
  }

  public @Nullable String param(String name) {
    return params.get(name.toLowerCase(Locale.ROOT));
  }

  /** Scopes named by the challenge; a registry may name several, separated by spaces. */
  public List<String> scopes() {
    String scope = param("scope");
    if (scope == null || scope.isBlank()) return List.of();
    List<String> out = new ArrayList<>();
    for (String s : scope.trim().split(" +")) out.add(s);
    return out;
  }

  /** Picks the first bearer challenge, else the first basic one, among all {@code WWW-Authenticate} values. */
  public static Optional<Challenge> select(List<String> headerValues) {
    List<Challenge> all = new ArrayList<>();
    for (String v : headerValues) all.addAll(parse(v));
    return all.stream().filter(Challenge::isBearer).findFirst()
        .or(() -> all.stream().filter(Challenge::isBasic).findFirst());
  }

  /** Parses one header value, which may hold several challenges. Unparseable tails are ignored. */
  public static List<Challenge> parse(String header) {
    List<Challenge> out = new ArrayList<>();
    Lexer lx = new Lexer(header);
    while (true) {
      lx.skip(" \t,");
      String scheme = lx.token();
      if (scheme.isEmpty()) break;
      Map<String, String> params = new LinkedHashMap<>();
      while (true) {
        int mark = lx.pos;
        lx.skip(" \t,");
        String name = lx.token();
        lx.skip(" \t");
        if (name.isEmpty() || !lx.eat('=')) {
          // not a parameter: the start of the next challenge (or a token68 we do not use)
          lx.pos = mark;
          break;
        }
        lx.skip(" \t");
        String value = lx.peek() == '"' ? lx.quoted() : lx.token();
        params.put(name.toLowerCase(Locale.ROOT), value);
      }
      out.add(new Challenge(scheme, params));
    }
    return out;
  }

  private static final class Lexer {
    private final String s;
    private int pos;

    Lexer(String s) {
      this.s = s;
    }

    char peek() {
      return pos < s.length() ? s.charAt(pos) : '\0';
    }

    void skip(String chars) {
      while (pos < s.length() && chars.indexOf(s.charAt(pos)) >= 0) pos++;
    }

    boolean eat(char c) {
      if (peek() == c) {
        pos++;
        return true;
      }
      return false;
    }

    String token() {
      int start = pos;
      while (pos < s.length()) {
        char c = s.charAt(pos);
        if (c == ' ' || c == '\t' || c == ',' || c == '=' || c == '"') break;
        pos++;
      }
      return s.substring(start, pos);
    }

    String quoted() {
      StringBuilder b = new StringBuilder();
      pos++; // opening quote
      while (pos < s.length()) {
        char c = s.charAt(pos++);
        if (c == '\\' && pos < s.length()) {
          b.append(s.charAt(pos++));
        } else if (c == '"') {
          break;
        } else {
          b.append(c);
        }
      }
      return b.toString();
    }
  }
}
