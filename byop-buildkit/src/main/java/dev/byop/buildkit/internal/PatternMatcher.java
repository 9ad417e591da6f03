package dev.byop.buildkit.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * {@code .dockerignore} pattern semantics as the Docker daemon sends them in DiffCopy metadata (moby's
 * patternmatcher): Go {@code filepath.Match} globs per path component plus {@code **}, {@code !} re-includes, later
 * patterns win, and a pattern that matches a directory matches everything below it.
 *
 * <p>Hand-written because no Java library implements Docker's exact rules (parent-directory matching and
 * {@code !} precedence differ from gitignore). Patterns are the user's, so they are not turned into
 * {@code java.util.regex} (which backtracks: {@code *a*a*a…b} against a long name takes exponential time); each is
 * compiled into a small automaton that is run over the name with a set of states, in time proportional to the
 * name's length times the pattern's, whatever the pattern.
 */
public final class PatternMatcher {
  private record Rule(Glob glob, boolean exclusion, String text) {}

  /** A malformed pattern; the message names the pattern and what is wrong with it. */
  public static final class BadPatternException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String pattern;

    BadPatternException(String pattern, String problem) {
      super("pattern '" + pattern + "' is malformed: " + problem);
      this.pattern = pattern;
    }

    public String pattern() {
      return pattern;
    }
  }

  private final List<Rule> rules = new ArrayList<>();
  private final boolean hasExclusions;

  /** @throws BadPatternException when a pattern is malformed */
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
      rules.add(new Rule(Glob.compile(p), exclusion, p));
    }
    this.hasExclusions = excl;
  }

  /**
   * Checks a {@code .dockerignore} file's text line by line as moby's {@code ignorefile.ReadAll} reads it
   * ({@code #} comments, blanks skipped, {@code !} exceptions), returning the first problem with its line number, or
   * null when every pattern is well-formed.
   */
  public static @Nullable String checkIgnoreFile(String text) {
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (i == 0 && line.startsWith("\uFEFF")) {
        line = line.substring(1);
      }
      if (line.startsWith("#")) {
        continue;
      }
      String p = line.trim();
      if (p.startsWith("!")) {
        p = p.substring(1).trim();
      }
      if (p.isEmpty()) {
        continue;
      }
      try {
        Glob.compile(clean(p));
      } catch (BadPatternException e) {
        return ".dockerignore line " + (i + 1) + ": " + e.getMessage();
      }
    }
    return null;
  }

  public boolean isEmpty() {
    return rules.isEmpty();
  }

  /** True when some pattern starts with {@code !}: an excluded directory may still hold included files. */
  public boolean hasExclusions() {
    return hasExclusions;
  }

  /**
   * Whether the relative slash-separated path matches (is ignored / selected): the path itself or any of its parent
   * directories, as moby's {@code MatchesOrParentMatches} (the Docker CLI's sender since buildx) decides. The older
   * {@code Matches} tried only the parent with as many components as the pattern, so {@code **}{@code /tmp} did not
   * exclude {@code tmp/z} there.
   */
  public boolean matches(String path) {
    String[] parentDirs = path.split("/");
    boolean matched = false;
    for (Rule r : rules) {
      if (r.exclusion != matched) {
        continue; // an include that already matched, or an exclusion that has nothing to undo
      }
      boolean m = r.glob.matches(path);
      for (int i = 1; !m && i < parentDirs.length; i++) {
        m = r.glob.matches(String.join("/", Arrays.copyOf(parentDirs, i)));
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
          ok = Glob.compile(p[i]).matches(d[i]);
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
    for (String c : p.split("/")) { // a backslash is an escape on Linux, as in Go, not a separator
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

  /**
   * One compiled pattern: the tokens of moby's translation ({@code *} is {@code [^/]*}, {@code ?} is {@code [^/]},
   * {@code **} before more is {@code (.*\/)?}, a final {@code **} is {@code .*}, {@code [...]} a class, {@code \c}
   * the character c) as a nondeterministic automaton, run with a set of states: no backtracking.
   */
  static final class Glob {
    private static final int LITERAL = 0;
    private static final int ONE = 1;
    private static final int CLASS = 2;
    private static final int STAR = 3;
    private static final int DIRS = 4;
    private static final int ANY = 5;

    private final int[] kind;
    private final int[] literal;
    private final int[][] ranges;
    private final boolean[] negated;

    private Glob(int[] kind, int[] literal, int[][] ranges, boolean[] negated) {
      this.kind = kind;
      this.literal = literal;
      this.ranges = ranges;
      this.negated = negated;
    }

    /** @throws BadPatternException for an unclosed or empty class, a reversed range or a trailing backslash */
    static Glob compile(String pattern) {
      List<Integer> kinds = new ArrayList<>();
      List<Integer> lits = new ArrayList<>();
      List<int[]> classes = new ArrayList<>();
      List<Boolean> negs = new ArrayList<>();
      int[] cps = pattern.codePoints().toArray();
      int n = cps.length;
      for (int i = 0; i < n; i++) {
        int c = cps[i];
        int k;
        int lit = 0;
        int[] cls = {};
        boolean neg = false;
        if (c == '*') {
          if (i + 1 < n && cps[i + 1] == '*') {
            i++;
            if (i + 1 < n && cps[i + 1] == '/') {
              i++; // "**/" also matches zero directories
            }
            k = i + 1 >= n ? ANY : DIRS;
          } else {
            k = STAR;
          }
        } else if (c == '?') {
          k = ONE;
        } else if (c == '[') {
          int j = i + 1;
          if (j < n && (cps[j] == '^' || cps[j] == '!')) {
            neg = true;
            j++;
          }
          List<Integer> r = new ArrayList<>();
          boolean closed = false;
          while (j < n) {
            if (cps[j] == ']' && !r.isEmpty()) {
              closed = true;
              break;
            }
            int[] lo = escaped(pattern, cps, j);
            j = lo[1];
            int hi = lo[0];
            if (j < n && cps[j] == '-' && j + 1 < n && cps[j + 1] != ']') {
              int[] h = escaped(pattern, cps, j + 1);
              hi = h[0];
              j = h[1];
              if (hi < lo[0]) {
                throw new BadPatternException(pattern, "range '" + Character.toString(lo[0])
                    + "-" + Character.toString(hi) + "' is reversed");
              }
            }
            r.add(lo[0]);
            r.add(hi);
          }
          if (!closed) {
            throw new BadPatternException(pattern, r.isEmpty() ? "empty character class" : "'[' is not closed");
          }
          k = CLASS;
          cls = r.stream().mapToInt(Integer::intValue).toArray();
          i = j;
        } else if (c == '\\') {
          if (i + 1 >= n) {
            throw new BadPatternException(pattern, "it ends with a lone '\\'");
          }
          k = LITERAL;
          lit = cps[++i];
        } else {
          k = LITERAL;
          lit = c;
        }
        kinds.add(k);
        lits.add(lit);
        classes.add(cls);
        negs.add(neg);
      }
      int m = kinds.size();
      int[] kind = new int[m];
      int[] literal = new int[m];
      int[][] ranges = new int[m][];
      boolean[] negated = new boolean[m];
      for (int t = 0; t < m; t++) {
        kind[t] = kinds.get(t);
        literal[t] = lits.get(t);
        ranges[t] = classes.get(t);
        negated[t] = negs.get(t);
      }
      return new Glob(kind, literal, ranges, negated);
    }

    /** The character at {@code j} (a backslash escapes the next), and the index after it. */
    private static int[] escaped(String pattern, int[] cps, int j) {
      if (cps[j] == '\\') {
        if (j + 1 >= cps.length) {
          throw new BadPatternException(pattern, "'[' is not closed");
        }
        return new int[] {cps[j + 1], j + 2};
      }
      return new int[] {cps[j], j + 1};
    }

    /**
     * Runs the automaton. States 0..m: before token t (m accepts); m+1+t: inside a {@code (.*\/)?} token t, after
     * at least one character of it. Time O(len(s) * m), memory O(m).
     */
    boolean matches(String s) {
      int m = kind.length;
      boolean[] cur = new boolean[2 * m + 1];
      boolean[] next = new boolean[2 * m + 1];
      cur[0] = true;
      closure(cur);
      int[] cps = s.codePoints().toArray();
      for (int c : cps) {
        Arrays.fill(next, false);
        boolean any = false;
        for (int t = 0; t < m; t++) {
          if (cur[t]) {
            switch (kind[t]) {
              case LITERAL -> {
                if (c == literal[t]) {
                  next[t + 1] = any = true;
                }
              }
              case ONE -> {
                if (c != '/') {
                  next[t + 1] = any = true;
                }
              }
              case CLASS -> {
                if (inClass(t, c)) {
                  next[t + 1] = any = true;
                }
              }
              case STAR -> {
                if (c != '/') {
                  next[t] = any = true;
                }
              }
              case ANY -> next[t] = any = true;
              case DIRS -> {
                next[m + 1 + t] = any = true; // first character of ".*/"
                if (c == '/') {
                  next[t + 1] = true;
                }
              }
              default -> throw new IllegalStateException();
            }
          }
          if (cur[m + 1 + t]) {
            next[m + 1 + t] = any = true;
            if (c == '/') {
              next[t + 1] = true;
            }
          }
        }
        if (!any) {
          return false;
        }
        closure(next);
        boolean[] x = cur;
        cur = next;
        next = x;
      }
      return cur[m];
    }

    /** Adds the states reachable without input: past a star, a final {@code **} or an empty directory prefix. */
    private void closure(boolean[] set) {
      for (int t = 0; t < kind.length; t++) {
        if (set[t] && (kind[t] == STAR || kind[t] == ANY || kind[t] == DIRS)) {
          set[t + 1] = true;
        }
      }
    }

    private boolean inClass(int t, int c) {
      int[] r = ranges[t];
      boolean in = false;
      for (int i = 0; i < r.length && !in; i += 2) {
        in = r[i] <= c && c <= r[i + 1];
      }
      return in != negated[t];
    }
  }
}
