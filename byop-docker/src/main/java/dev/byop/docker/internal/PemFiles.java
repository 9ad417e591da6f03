package dev.byop.docker.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The TLS context the Docker CLI builds from {@code ca.pem}, {@code cert.pem} and {@code key.pem}: trust only that CA,
 * present that client certificate. The key is read by hand (PKCS#8, or PKCS#1 RSA as {@code openssl genrsa} of
 * OpenSSL 1.x writes it, wrapped into PKCS#8) because the JDK reads neither PEM form and BouncyCastle's PEM parser
 * would make byop-docker, which every engine user depends on, carry BouncyCastle for three files.
 */
public final class PemFiles {
  private static final String BEGIN = "-----BEGIN ";

  private PemFiles() {}

  /** A TLS context from a directory holding {@code ca.pem}, {@code cert.pem} and {@code key.pem}. */
  public static SSLContext context(Path dir) throws IOException {
    Path ca = dir.resolve("ca.pem");
    Path cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    for (Path p : List.of(ca, cert, key)) {
      if (!Files.isRegularFile(p)) throw new IOException("TLS file " + p + " does not exist");
    }
    try {
      CertificateFactory x509 = CertificateFactory.getInstance("X.509");
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      int i = 0;
      for (Certificate c : certificates(x509, ca)) trust.setCertificateEntry("ca" + i++, c);
      KeyStore identity = KeyStore.getInstance("PKCS12");
      identity.load(null, null);
      char[] none = new char[0];
      identity.setKeyEntry("client", privateKey(key), none, certificates(x509, cert).toArray(Certificate[]::new));
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(identity, none);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot use the TLS files in " + dir + ": " + e.getMessage(), e);
    }
  }

  private static List<Certificate> certificates(CertificateFactory x509, Path file) throws IOException,
      GeneralSecurityException {
    try (InputStream in = Files.newInputStream(file)) {
      List<Certificate> out = new ArrayList<>(x509.generateCertificates(in));
      if (out.isEmpty()) throw new IOException(file + " holds no certificate");
      return out;
    }
  }

  static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
    String pem = Files.readString(file, StandardCharsets.US_ASCII);
    int begin = pem.indexOf(BEGIN);
    if (begin < 0) throw new IOException(file + " is not a PEM file");
    int typeEnd = pem.indexOf("-----", begin + BEGIN.length());
    String type = pem.substring(begin + BEGIN.length(), typeEnd);
    int end = pem.indexOf("-----END " + type + "-----", typeEnd);
    if (end < 0) throw new IOException(file + ": no END line for " + type);
    byte[] der = Base64.getMimeDecoder().decode(pem.substring(typeEnd + 5, end));
    byte[] pkcs8 = switch (type) {
      case "PRIVATE KEY" -> der;
      case "RSA PRIVATE KEY" -> wrapRsa(der);
      default -> throw new IOException(file + " holds a '" + type + "'; use a PKCS#8 key (BEGIN PRIVATE KEY) or an "
          + "RSA key (BEGIN RSA PRIVATE KEY); an encrypted key cannot be used unattended");
    };
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(pkcs8);
    GeneralSecurityException last = null;
    for (String alg : new String[] {"RSA", "EC", "Ed25519"}) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(spec);
      } catch (GeneralSecurityException e) {
        last = e;
      }
    }
    throw new IOException(file + " holds no RSA, EC or Ed25519 key the JDK reads", last);
  }

  /** PKCS#1 RSAPrivateKey inside PKCS#8: SEQUENCE { INTEGER 0, AlgorithmIdentifier rsaEncryption, OCTET STRING }. */
  private static byte[] wrapRsa(byte[] pkcs1) {
    byte[] version = {0x02, 0x01, 0x00};
    byte[] rsaAlgorithm = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01,
        0x01, 0x05, 0x00};
    byte[] octets = tlv(0x04, pkcs1);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(version);
    body.writeBytes(rsaAlgorithm);
    body.writeBytes(octets);
    return tlv(0x30, body.toByteArray());
  }

  private static byte[] tlv(int tag, byte[] value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    int n = value.length;
    if (n < 0x80) {
      out.write(n);
    } else {
      int bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
      out.write(0x80 | bytes);
      for (int i = bytes - 1; i >= 0; i--) out.write((n >>> (8 * i)) & 0xff);
    }
    out.writeBytes(value);
    return out.toByteArray();
  }
}
