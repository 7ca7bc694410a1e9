// The seed: the BEMS certificate and its private key are in the computer's
// Personal store, and the account running BEMS can read the key.
#include <sys/stat.h>
#include <unistd.h>

#include "probe/rules/rules.hpp"

namespace probe::rules {

report::Finding key_present(const tls::Store& bems) {
  auto f =
      finding(FindingId::bems_key_present, "BEMS certificate and its private key are in personal/");
  // A file we may not read may well be the key (or the .pfx): whether it is
  // present cannot be told, and bems.key.readable blames the permissions.
  if (!bems.unreadable_personal.empty() && (!bems.leaf || !bems.key))
    return skip(f, "personal/ holds " + bems.unreadable_personal.front().string() +
                       ", which this account cannot read (see " +
                       id_text(FindingId::bems_key_readable) + ")");
  if (!bems.leaf) {
    return fail(
        f, "personal/ holds no certificate for BEMS.",
        "Put the BEMS certificate with its private key in personal/ (on Windows: import the "
        ".pfx into Certificates (Local Computer) > Personal > Certificates).");
  }
  about(f, bems.leaf->certificate.info());
  if (!bems.key) {
    return fail(
        f, "The BEMS certificate is in personal/ but no private key is.",
        "Export the certificate WITH its private key as a .pfx from the machine that made the "
        "request and import it into Personal (or put the PEM key file in personal/).");
  }
  return pass(f, "Certificate and private key found (" + bems.key_file->string() + ").");
}

report::Finding key_matches(const tls::Store& bems) {
  auto f = finding(FindingId::bems_key_matches, "The private key belongs to the BEMS certificate");
  if (!bems.unreadable_personal.empty() && !bems.key)
    return skip(f, "the key could not be read (see " + id_text(FindingId::bems_key_readable) + ")");
  if (!bems.leaf || !bems.key)
    return skip(f, "needs both a certificate and a key in personal/ (see " +
                       id_text(FindingId::bems_key_present) + ")");
  about(f, bems.leaf->certificate.info());
  if (bems.key_found_but_mismatched || !bems.key->matches(bems.leaf->certificate)) {
    return fail(
        f,
        "The private key in " + bems.key_file->string() +
            " does not belong to any certificate in personal/: its public key differs.",
        "Replace it with the key generated with this certificate's request, or re-import the "
        "original .pfx; on Windows the certificate must show 'You have a private key that "
        "corresponds to this certificate'.");
  }
  return pass(f, "The " + bems.key->type() + " " + std::to_string(bems.key->bits()) +
                     "-bit key matches the certificate's public key.");
}

report::Finding key_readable(const tls::Store& bems) {
  auto f =
      finding(FindingId::bems_key_readable,
              "The private key is readable by the account running the check, and by no one else");
  if (!bems.unreadable_personal.empty() && !bems.key) {
    if (bems.leaf) about(f, bems.leaf->certificate.info());
    std::string files;
    for (const auto& file : bems.unreadable_personal)
      files += (files.empty() ? "" : ", ") + file.string();
    return fail(
        f,
        files + (bems.unreadable_personal.size() == 1 ? " is" : " are") +
            " not readable by this account (permission denied), so no private key could be "
            "loaded.",
        "Grant the service account read access to the key (Linux: chown/chmod the file for the "
        "account; Windows: right-click the certificate > All Tasks > Manage Private Keys > add "
        "the BEMS service account with Read).");
  }
  if (!bems.key || !bems.key_file)
    return skip(f, "no private key was found (see " + id_text(FindingId::bems_key_present) + ")");
  if (bems.leaf) about(f, bems.leaf->certificate.info());
  const std::string file = bems.key_file->string();
  if (access(file.c_str(), R_OK) != 0) {
    return fail(
        f, file + " is not readable by this account.",
        "Grant the service account read access to the key (Windows: right-click the certificate > "
        "All Tasks > Manage Private Keys > add the BEMS service account with Read).");
  }
  struct stat info {};
  if (stat(file.c_str(), &info) == 0 && (info.st_mode & S_IROTH)) {
    return warn(
        f,
        file + " is readable by every account on this machine (mode " +
            std::to_string((info.st_mode >> 6) & 7) + std::to_string((info.st_mode >> 3) & 7) +
            std::to_string(info.st_mode & 7) + ").",
        "Restrict it to the service account: chmod 600 (Windows: Manage Private Keys, remove "
        "Everyone/Users).");
  }
  return pass(f, file + " is readable by this account and not by everyone.");
}

}  // namespace probe::rules
