#include "ca/root_crl.h"

#include <botan/data_src.h>
#include <botan/pkix_types.h>
#include <botan/x509_crl.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "hsm/module.h"
#include "hsm/token.h"
#include "hsm/token_key.h"
#include "platform/files.h"
#include "platform/log.h"
#include "platform/principal.h"
#include "platform/status_macros.h"

namespace tessera::ca {
namespace {

absl::StatusOr<Botan::X509_Certificate> ReadCertificate(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  try {
    Botan::DataSource_Memory source(pem);
    return Botan::X509_Certificate(source);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a certificate: ", e.what()));
  }
}

}  // namespace

absl::StatusOr<CrlContent> ReadRootCrl(const std::vector<uint8_t>& der,
                                       const Botan::X509_Certificate& root) {
  try {
    Botan::X509_CRL crl(der);
    if (!(crl.issuer_dn() == root.subject_dn()) ||
        !crl.check_signature(*root.load_subject_public_key())) {
      return absl::FailedPreconditionError("root.crl: not signed by this root");
    }
    CrlContent content{.number = crl.crl_number(),
                       .this_update = crl.this_update().to_std_timepoint(),
                       .next_update = crl.next_update().to_std_timepoint()};
    for (const Botan::CRL_Entry& entry : crl.get_revoked()) {
      content.entries.push_back({.serial = SerialHex(entry.serial_number()),
                                 .revoked_at = entry.expire_time().to_std_timepoint(),
                                 .reason = static_cast<int>(entry.reason_code())});
    }
    return content;
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(absl::StrCat("root.crl: not a CRL: ", e.what()));
  }
}

absl::StatusOr<std::vector<uint8_t>> FirstRootCrl(const Botan::X509_Certificate& root,
                                                  const Botan::Private_Key& root_key,
                                                  Clock::TimePoint now,
                                                  std::chrono::hours validity) {
  const auto this_update = std::chrono::floor<std::chrono::seconds>(now);
  return SignCrl({.number = 1, .this_update = this_update, .next_update = this_update + validity},
                 root, root_key);
}

absl::StatusOr<RootCrlResult> ReissueRootCrl(const CeremonyConfig& config, const Secret& root_pin,
                                             const std::vector<CaRevocation>& revocations,
                                             const Clock& clock) {
  static const std::set<int> kCaReasons = {0, 2, 3, 4, 5};
  const std::filesystem::path out(config.output_dir);
  TESSERA_ASSIGN_OR_RETURN(Botan::X509_Certificate root,
                           ReadCertificate((out / "root.pem").string()));
  const std::string crl_path = (out / kRootCrlFile).string();
  absl::StatusOr<std::string> previous_der = ReadFile(crl_path);
  if (!previous_der.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        crl_path, ": no earlier root CRL to continue (the key ceremony writes the first)"));
  }
  TESSERA_ASSIGN_OR_RETURN(
      CrlContent content,
      ReadRootCrl(std::vector<uint8_t>(previous_der->begin(), previous_der->end()), root));

  const auto now = std::chrono::floor<std::chrono::seconds>(clock.Now());
  for (const CaRevocation& revocation : revocations) {
    auto spec = std::find_if(config.issuing.begin(), config.issuing.end(),
                             [&](const CaSpec& s) { return s.name == revocation.ca_name; });
    if (spec == config.issuing.end()) {
      return absl::InvalidArgumentError(absl::StrCat("--revoke: '", revocation.ca_name,
                                                     "' is not an issuing CA of this ceremony"));
    }
    if (!kCaReasons.contains(revocation.reason)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--reason: ", revocation.reason,
                       " is not a reason to revoke a CA (0 unspecified, 2 cACompromise, 3 "
                       "affiliationChanged, 4 superseded, 5 cessationOfOperation)"));
    }
    TESSERA_ASSIGN_OR_RETURN(Botan::X509_Certificate ca,
                             ReadCertificate((out / (spec->name + ".pem")).string()));
    if (!ca.check_signature(*root.load_subject_public_key())) {
      return absl::InvalidArgumentError(absl::StrCat(spec->name, ".pem: not signed by this root"));
    }
    const std::string serial = SerialHex(ca.serial_number());
    const bool listed = std::any_of(content.entries.begin(), content.entries.end(),
                                    [&](const RevokedEntry& e) { return e.serial == serial; });
    if (!listed) content.entries.push_back({serial, now, revocation.reason});
  }
  const auto validity =
      std::chrono::duration_cast<std::chrono::hours>(content.next_update - content.this_update);
  content.number += 1;
  content.this_update = now;
  content.next_update = now + std::max(validity, std::chrono::hours(24));

  // The root key stays on its offline token; it signs here and nowhere else.
  TESSERA_ASSIGN_OR_RETURN(auto module, hsm::Module::Load(config.module_path));
  TESSERA_ASSIGN_OR_RETURN(auto token, hsm::Token::Login(module, config.root_token, root_pin));
  const std::vector<uint8_t> id(config.root.name.begin(), config.root.name.end());
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Botan::Private_Key> key, hsm::LoadTokenKey(token, id));
  TESSERA_ASSIGN_OR_RETURN(std::vector<uint8_t> der, SignCrl(content, root, *key));
  TESSERA_RETURN_IF_ERROR(WriteFile(crl_path, std::string(der.begin(), der.end())));
  LogEvent(spdlog::level::info, "root_crl_signed",
           {{"number", std::to_string(content.number)},
            {"entries", std::to_string(content.entries.size())},
            {"next_update", UtcText(content.next_update)},
            {"file", crl_path}});
  return RootCrlResult{crl_path, content.number, content.entries.size(), content.next_update};
}

}  // namespace tessera::ca
