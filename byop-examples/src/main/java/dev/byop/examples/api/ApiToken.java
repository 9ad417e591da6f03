package dev.byop.examples.api;

import dev.byop.core.ConfigException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

/**
 * The API's bearer token, kept in {@code <dataDir>/api/token} (folder 0700, file 0600): made from 256 random bits
 * the first time and read back on later runs, so clients keep working across restarts. {@link #created()} says
 * whether this call made it, so a host prints the value only then. {@link #toString()} never shows the value.
 */
public final class ApiToken {
  /** The shortest token {@link ApiServer.Builder#token(String)} accepts: 128 bits in base64url. */
  static final int MIN_LENGTH = 22;
  private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String value;
  private final Path file;
  private final boolean created;

  private ApiToken(String value, Path file, boolean created) {
    this.value = value;
    this.file = file;
    this.created = created;
  }

  /**
   * Reads the token of this data directory, creating it when there is none. A token file that others may read (or
   * that is a link, or too short) is refused rather than silently trusted or repaired: it may have leaked.
   */
  public static ApiToken loadOrCreate(Path dataDir) {
    Path dir = dataDir.resolve("api");
    Path file = dir.resolve("token");
    try {
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, OWNER_ONLY_DIR);
      if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
        String fresh = generate();
        // Written whole under a temporary name with 0600 from the start, then hard-linked into place (which, unlike a
        // rename, fails when the name exists): a crash or a second server starting at the same moment never leaves a
        // half-written or world-readable token behind, nor replaces one a client already holds.
        Path tmp = Files.createTempFile(dir, "token", ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE));
        try {
          Files.writeString(tmp, fresh + "\n", StandardCharsets.US_ASCII);
          Files.createLink(file, tmp);
          return new ApiToken(fresh, file, true);
        } catch (FileAlreadyExistsException raced) {
          // another process made it first: use theirs
        } finally {
          Files.deleteIfExists(tmp);
        }
      }
      return read(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create the API token in " + dir, e);
    }
  }

  private static ApiToken read(Path file) throws IOException {
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new ConfigException("api token", file + " is not a regular file");
    }
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
    if (!OWNER_ONLY_FILE.containsAll(perms)) {
      throw new ConfigException("api token", file + " may be read by others (" + PosixFilePermissions.toString(perms)
          + "); treat it as leaked: delete it so a new one is made, or chmod 600 it if you are sure");
    }
    String value = Files.readString(file, StandardCharsets.US_ASCII).strip();
    if (value.length() < MIN_LENGTH || !value.matches("[A-Za-z0-9_-]+")) {
      throw new ConfigException("api token", file + " does not hold a token of at least " + MIN_LENGTH
          + " base64url characters; delete it so a new one is made");
    }
    return new ApiToken(value, file, false);
  }

  private static String generate() {
    byte[] bits = new byte[32];
    RANDOM.nextBytes(bits);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bits);
  }

  /** The secret itself; give it to {@link ApiServer.Builder#token(ApiToken)} and print it only when created. */
  public String value() {
    return value;
  }

  /** Where it is kept. */
  public Path file() {
    return file;
  }

  /** Whether this call made the token (a first run), as opposed to reading one made earlier. */
  public boolean created() {
    return created;
  }

  @Override
  public String toString() {
    return "ApiToken[" + file + (created ? ", created" : "") + "]";
  }
}
