package dev.byop.buildkit.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code .dockerignore} pattern semantics as the Docker daemon sends them in DiffCopy metadata: Go
 * {@code filepath.Match} globs per path component plus {@code **}, {@code !} re-includes, later patterns win,
 * and a pattern that matches a directory matches everything below it.
 *
 * <p>Hand-written because no Java library implements Docker's exact rules (parent-directory matching and
 * {@code !} precedence differ from gitignore).
 */
public final class PatternMatcher {
  private record Rule(Pattern regex, int dirs, boolean exclusion, String text) {}

  private final List<Rule> rules = new ArrayList<>();
  private final boolean hasExclusions;

  public PatternMatcher(List<String> patterns) {
    boolean excl = false;
    for (String raw : patterns) {
      String p = raw.trim();
      if (p.isEmpty()) {
        continue;
      }
      boolean exclusion = false;
      if (p.startsWith("!")) {
        exclusion = true;
        p = p.substring(1).trim();
        if (p.isEmpty()) {
          continue;
        }
      }
      p = clean(p);
      if (p.equals(".")) {
        continue;
      }
      excl |= exclusion;
      rules.add(new Rule(Pattern.compile(toRegex(p)), p.split("/").length, exclusion, p));
    }
    this.hasExclusions = excl;
  }

  public boolean isEmpty() {
    return rules.isEmpty();
  }

  /** True when some pattern starts with {@code !}: an excluded directory may still hold included files. */
  public boolean hasExclusions() {
    return hasExclusions;
  }

  /** Whether the relative slash-separated path matches (is ignored / selected). */
  public boolean matches(String path) {
    String[] parentDirs = path.split("/");
    boolean matched = false;
    for (Rule r : rules) {
      if (r.exclusion != matched) {
        continue; // an include that already matched, or an exclusion that has nothing to undo
      }
      boolean m = r.regex.matcher(path).matches();
      if (!m && parentDirs.length > 1 && r.dirs < parentDirs.length) {
        m = r.regex.matcher(String.join("/", java.util.Arrays.copyOf(parentDirs, r.dirs))).matches();
      }
      if (m) {
        matched = !r.exclusion;
      }
    }
    return matched;
  }

  /**
   * Whether a directory that does not match could still contain matching paths (used for include patterns, to
   * decide whether to descend).
   */
  public boolean couldMatchBelow(String dir) {
    String[] d = dir.split("/");
    for (Rule r : rules) {
      if (r.exclusion) {
        continue;
      }
      String[] p = r.text.split("/");
      boolean ok = true;
      for (int i = 0; i < d.length && ok; i++) {
        if (i >= p.length) {
          ok = false;
        } else if (p[i].equals("**")) {
          return true;
        } else {
          ok = Pattern.compile(toRegex(p[i])).matcher(d[i]).matches();
        }
      }
      if (ok) {
        return true;
      }
    }
    return false;
  }

  /** Like Go's {@code filepath.Clean} for slash paths, without a leading slash. */
  static String clean(String p) {
    List<String> out = new ArrayList<>();
    for (String c : p.replace('\\', '/').split("/")) {
      if (c.isEmpty() || c.equals(".")) {
        continue;
      }
      if (c.equals("..")) {
        if (!out.isEmpty() && !out.get(out.size() - 1).equals("..")) {
          out.remove(out.size() - 1);
        }
        continue;
      }
      out.add(c);
    }
    return out.isEmpty() ? "." : String.join("/", out);
  }

  /** Translates a Docker pattern into a Java regex the way moby's fileutils does. */
  static String toRegex(String pattern) {
    StringBuilder re = new StringBuilder("^");
    int n = pattern.length();
    for (int i = 0; i < n; i++) {
      char c = pattern.charAt(i);
      if (c == '*') {
        if (i + 1 < n && pattern.charAt(i + 1) == '*') {
          i++; // "**"
          if (i + 1 < n && pattern.charAt(i + 1) == '/') {
            i++; // "**/" also matches zero directories
          }
          if (i + 1 >= n) {
            re.append(".*");
          } else {
            re.append("(.*/)?");
          }
          // moby: "**" at the end or "**/" → any number of directories
        } else {
          re.append("[^/]*");
        }
      } else if (c == '?') {
        re.append("[^/]");
      } else if (c == '[') {
        int end = pattern.indexOf(']', i + 1);
        if (end < 0) {
          re.append("\\[");
        } else {
          String cls = pattern.substring(i + 1, end);
          if (cls.startsWith("^") || cls.startsWith("!")) {
            cls = "^" + cls.substring(1);
          }
          re.append('[').append(cls.replace("\\", "\\\\")).append(']');
          i = end;
        }
      } else if (c == '\\' && i + 1 < n) {
        re.append(Pattern.quote(String.valueOf(pattern.charAt(++i))));
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return re.append('$').toString();
  }
}
