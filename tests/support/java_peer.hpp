#pragma once
// Java's TLS stack (JSSE) as a peer: tests/java/MtlsPeer.java compiled once
// per test program with javac, PKCS#12 key and trust stores made from PEM
// files with openssl and keytool, as a Java admin would.
#include <filesystem>
#include <string>
#include <vector>

namespace testing {

inline const std::string kJavaStorePassword = "changeit";

// The folder holding MtlsPeer.class (compiled on first use).
std::filesystem::path java_peer_classes();

// `openssl pkcs12 -export` of the leaf, its key and the chain after it.
void make_java_keystore(const std::filesystem::path& keystore, const std::filesystem::path& cert,
                        const std::filesystem::path& key,
                        const std::vector<std::filesystem::path>& chain);

// `keytool -importcert` of each certificate as a trusted entry.
void make_java_truststore(const std::filesystem::path& truststore,
                          const std::vector<std::filesystem::path>& trusted);

// argv for `java -cp CLASSES MtlsPeer ARGS...`.
std::vector<std::string> java_peer_command(const std::vector<std::string>& args);

}  // namespace testing
