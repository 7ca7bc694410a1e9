// A mutual-TLS peer on Java's own TLS stack (JSSE), the stack BEMS runs on:
// tests compile it with javac and run it against connect and serve.
//
//   java MtlsPeer server PORT KEYSTORE TRUSTSTORE PASSWORD [PROTOCOL]
//     accepts one connection, requires a client certificate, prints
//     "listening", then "accepted: SUBJECT" or "rejected: EXCEPTION: MESSAGE"
//   java MtlsPeer client HOST PORT KEYSTORE TRUSTSTORE PASSWORD [PROTOCOL]
//     prints "connected: PROTOCOL" or "failed: EXCEPTION: MESSAGE"
//
// Stores are PKCS#12 files. Every socket operation has a timeout; the exit
// code is 0 on a completed handshake, 1 otherwise.
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

public final class MtlsPeer {
  private static final int TIMEOUT_MS = 10000;

  private static SSLContext context(String keystore, String truststore, char[] password)
      throws Exception {
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(keystore)) {
      keys.load(in, password);
    }
    KeyManagerFactory keyManagers =
        KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keyManagers.init(keys, password);
    KeyStore trusted = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(truststore)) {
      trusted.load(in, password);
    }
    TrustManagerFactory trustManagers =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(trusted);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
    return context;
  }

  private static String describe(Exception e) {
    Throwable root = e;
    StringBuilder text = new StringBuilder(e.getClass().getSimpleName() + ": " + e.getMessage());
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
      text.append(" / caused by ").append(root.getClass().getSimpleName()).append(": ")
          .append(root.getMessage());
    }
    return text.toString().replace('\n', ' ');
  }

  private static int server(String[] args) throws Exception {
    int port = Integer.parseInt(args[1]);
    SSLContext context = context(args[2], args[3], args[4].toCharArray());
    try (SSLServerSocket listener = (SSLServerSocket) context.getServerSocketFactory()
             .createServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      listener.setNeedClientAuth(true);
      if (args.length > 5) listener.setEnabledProtocols(new String[] {args[5]});
      listener.setSoTimeout(TIMEOUT_MS);
      System.out.println("listening");
      System.out.flush();
      try (SSLSocket socket = (SSLSocket) listener.accept()) {
        socket.setSoTimeout(TIMEOUT_MS);
        try {
          socket.startHandshake();
          X509Certificate client = (X509Certificate) socket.getSession().getPeerCertificates()[0];
          System.out.println("accepted: " + client.getSubjectX500Principal().getName());
          socket.getOutputStream().write("ok\n".getBytes("US-ASCII"));
          socket.getOutputStream().flush();
          return 0;
        } catch (Exception e) {
          System.out.println("rejected: " + describe(e));
          return 1;
        }
      }
    }
  }

  private static int client(String[] args) throws Exception {
    SSLContext context = context(args[3], args[4], args[5].toCharArray());
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
      socket.connect(new InetSocketAddress(args[1], Integer.parseInt(args[2])), TIMEOUT_MS);
      socket.setSoTimeout(TIMEOUT_MS);
      if (args.length > 6) socket.setEnabledProtocols(new String[] {args[6]});
      try {
        socket.startHandshake();
        // TLS 1.3: the server judges our certificate after our handshake
        // ended; its verdict (an alert, or data, or a close) comes with a read.
        OutputStream out = socket.getOutputStream();
        out.write("OPTIONS sip:probe SIP/2.0\r\n\r\n".getBytes("US-ASCII"));
        out.flush();
        try {
          socket.getInputStream().read();
        } catch (SocketTimeoutException quiet) {
          // no verdict within the timeout: accepted
        }
        System.out.println("connected: " + socket.getSession().getProtocol());
        return 0;
      } catch (Exception e) {
        System.out.println("failed: " + describe(e));
        return 1;
      }
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length >= 5 && args[0].equals("server")) System.exit(server(args));
    if (args.length >= 6 && args[0].equals("client")) System.exit(client(args));
    System.err.println("usage: MtlsPeer server PORT KEYSTORE TRUSTSTORE PASSWORD [PROTOCOL] | "
        + "client HOST PORT KEYSTORE TRUSTSTORE PASSWORD [PROTOCOL]");
    System.exit(2);
  }
}
