#include "ca/authority.h"

#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/x509_key.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ca/csr.h"
#include "platform/log.h"
#include "platform/random.h"
#include "platform/status_macros.h"

namespace tessera::ca {
namespace {

std::vector<uint8_t> Sha256(std::span<const uint8_t> data) {
  auto hash = Botan::HashFunction::create_or_throw("SHA-256");
  hash->update(data.data(), data.size());
  return Botan::unlock(hash->final());
}

std::string SubjectJson(const SubjectData& s) {
  nlohmann::json j = {{"codice_fiscale", s.codice_fiscale}, {"istat", s.istat},
                      {"progressive", s.progressive},       {"service", s.service},
                      {"dns_names", s.dns_names},           {"ip_addresses", s.ip_addresses}};
  return j.dump();
}

absl::StatusOr<SubjectData> SubjectFromJson(const std::string& text) {
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    return SubjectData{j.at("codice_fiscale"), j.at("istat"),     j.at("progressive"),
                       j.at("service"),        j.at("dns_names"), j.at("ip_addresses")};
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("stored subject data unreadable: ", e.what()));
  }
}

}  // namespace

absl::Status CheckRequestId(const std::string& id) {
  static const std::regex kId("[A-Za-z0-9._:-]{1,128}");
  if (!std::regex_match(id, kId)) {
    return absl::InvalidArgumentError("request_id: 1 to 128 of A-Z a-z 0-9 . _ : -");
  }
  return absl::OkStatus();
}

absl::Status CheckSerial(const std::string& serial) {
  static const std::regex kSerial("[0-9a-f]{1,40}");
  if (!std::regex_match(serial, kSerial)) {
    return absl::InvalidArgumentError("serial: lower-case hex, at most 40 digits");
  }
  return absl::OkStatus();
}

std::string SerialHex(const Botan::BigInt& serial) {
  std::string hex = absl::AsciiStrToLower(serial.to_hex_string());
  size_t first = hex.find_first_not_of('0');
  return first == std::string::npos ? "0" : hex.substr(first);
}

absl::StatusOr<CertificateRecord> CertificateAuthority::Issue(const IssueRequest& request,
                                                              const Actor& actor) {
  absl::StatusOr<const Profile*> profile = profiles_.Find(request.profile);
  if (!profile.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("profile: ", profile.status().message()));
  }
  if (!(*profile)->requestable) {
    return absl::InvalidArgumentError(
        absl::StrCat("profile: '", request.profile,
                     "' is issued only by the key ceremony and tessera-ca itself"));
  }
  return IssueUnder(request, **profile, (*profile)->issuer, actor);
}

absl::StatusOr<CertificateRecord> CertificateAuthority::IssueOcspResponder(
    const std::string& issuer, const std::string& request_id, std::vector<uint8_t> csr_der,
    const Actor& actor) {
  TESSERA_ASSIGN_OR_RETURN(const Profile* profile, profiles_.Find(kOcspResponderProfile));
  return IssueUnder({.request_id = request_id,
                     .profile = kOcspResponderProfile,
                     .csr_der = std::move(csr_der),
                     .subject = {.service = OcspResponderName(issuer)}},
                    *profile, issuer, actor);
}

absl::StatusOr<CertificateRecord> CertificateAuthority::RenewService(IssueRequest request,
                                                                     const Actor& actor) {
  TESSERA_ASSIGN_OR_RETURN(const Profile* profile, profiles_.Find(kServiceProfile));
  const std::vector<std::string>& allowed = profile->renewable_services;
  if (std::find(allowed.begin(), allowed.end(), request.subject.service) == allowed.end()) {
    return absl::PermissionDeniedError(
        absl::StrCat("subject.service: '", request.subject.service,
                     "' is not in the service profile's renewable_services (",
                     absl::StrJoin(allowed, ", "), ")"));
  }
  request.profile = kServiceProfile;
  return IssueUnder(request, *profile, profile->issuer, actor);
}

absl::StatusOr<CertificateRecord> CertificateAuthority::IssueUnder(const IssueRequest& request,
                                                                   const Profile& profile,
                                                                   const std::string& issuer_name,
                                                                   const Actor& actor) {
  TESSERA_RETURN_IF_ERROR(CheckActor(actor));
  TESSERA_RETURN_IF_ERROR(CheckRequestId(request.request_id));
  TESSERA_RETURN_IF_ERROR(profiles_.CheckProgressive(profile, request.subject.progressive));
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Botan::Public_Key> key, CheckCsr(request.csr_der));

  // What this request_id stands for: a retry must ask for exactly the same thing. The key
  // counts, not the CSR's bytes: a CSR signed again with the same key is the same request.
  const std::string subject_json = SubjectJson(request.subject);
  const std::vector<uint8_t> public_key = key->subject_public_key();
  std::vector<uint8_t> fingerprint_input(request.profile.begin(), request.profile.end());
  fingerprint_input.push_back(0);
  fingerprint_input.insert(fingerprint_input.end(), public_key.begin(), public_key.end());
  fingerprint_input.push_back(0);
  fingerprint_input.insert(fingerprint_input.end(), subject_json.begin(), subject_json.end());
  const std::vector<uint8_t> request_sha256 = Sha256(fingerprint_input);

  // A fresh request is planned, linted and recorded without first looking its request_id up:
  // retries are rare, so the lookup happens only when something refuses (the insert finds the
  // request_id taken, or planning fails because, say, the profile changed since).
  auto answer_retry = [&](absl::Status refusal) -> absl::StatusOr<CertificateRecord> {
    TESSERA_ASSIGN_OR_RETURN(std::optional<CertificateRecord> existing,
                             store_.FindByRequestId(request.request_id));
    if (!existing.has_value()) return refusal;
    if (existing->request_sha256 != request_sha256) {
      return absl::AlreadyExistsError(absl::StrCat("request_id: '", request.request_id,
                                                   "' was already used for a different request"));
    }
    if (existing->state == CertificateState::kIssued) return *existing;  // signs nothing
    return Complete(*existing, nullptr);  // an intent a crash (or a concurrent call) left
  };

  auto issuer = issuers_.find(issuer_name);
  if (issuer == issuers_.end()) {
    return answer_retry(absl::FailedPreconditionError(
        absl::StrCat("profile '", request.profile, "' needs issuing CA '", issuer_name,
                     "', which this CA does not hold")));
  }
  absl::StatusOr<CertificatePlan> plan =
      PlanCertificate(profile, request.subject, *key, issuer->second->context(),
                      RandomSerial(ThreadRng()), clock_.Now());
  if (!plan.ok()) return answer_retry(plan.status());
  if (absl::Status linted = issuer->second->Check(*plan); !linted.ok()) {
    return answer_retry(linted);
  }

  CertificateRecord intent;
  intent.serial = SerialHex(plan->serial);
  intent.request_id = request.request_id;
  intent.request_sha256 = request_sha256;
  intent.issuer = issuer->first;
  intent.profile = request.profile;
  intent.subject = Rfc2253(plan->subject);
  intent.subject_data = subject_json;
  intent.subject_public_key = plan->subject_public_key;
  intent.subject_key_sha256 = Sha256(plan->subject_public_key);
  intent.not_before = plan->not_before;
  intent.not_after = plan->not_after;
  intent.requested_by = actor;
  absl::Status recorded = store_.RecordIntent(intent);
  if (absl::IsAlreadyExists(recorded) || absl::IsFailedPrecondition(recorded)) {
    // The request_id is taken (a retry, or a concurrent call that won the insert; its row can
    // trip the request_id or the live-key constraint first), or the key is in another live
    // certificate: answer as a retry would, or with the refusal.
    return answer_retry(recorded);
  }
  TESSERA_RETURN_IF_ERROR(recorded);
  return Complete(intent, &*plan);
}

absl::StatusOr<CertificatePlan> CertificateAuthority::RebuildPlan(const CertificateRecord& record,
                                                                  const Issuer& issuer) {
  TESSERA_ASSIGN_OR_RETURN(const Profile* profile, profiles_.Find(record.profile));
  TESSERA_ASSIGN_OR_RETURN(SubjectData subject, SubjectFromJson(record.subject_data));
  std::unique_ptr<Botan::Public_Key> key;
  try {
    key.reset(Botan::X509::load_key(record.subject_public_key));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("stored public key unreadable: ", e.what()));
  }
  // The intent fixed serial and validity; planning again from them yields the same content.
  TESSERA_ASSIGN_OR_RETURN(CertificatePlan plan,
                           PlanCertificate(*profile, subject, *key, issuer.context(),
                                           Botan::BigInt("0x" + record.serial), record.not_before));
  if (plan.not_after != record.not_after) {
    return absl::FailedPreconditionError(
        absl::StrCat("intent ", record.serial, ": the profile's validity changed since"));
  }
  return plan;
}

absl::StatusOr<CertificateRecord> CertificateAuthority::Complete(const CertificateRecord& intent,
                                                                 const CertificatePlan* linted) {
  auto issuer = issuers_.find(intent.issuer);
  if (issuer == issuers_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("intent ", intent.serial, ": issuing CA '", intent.issuer, "' is not held"));
  }
  return store_.CompleteIssuance(
      intent.serial, [&](const CertificateRecord& record) -> absl::StatusOr<std::vector<uint8_t>> {
        std::optional<CertificatePlan> rebuilt;
        if (linted == nullptr) {
          TESSERA_ASSIGN_OR_RETURN(rebuilt, RebuildPlan(record, *issuer->second));
          TESSERA_RETURN_IF_ERROR(issuer->second->Check(*rebuilt));
        }
        const CertificatePlan& plan = linted != nullptr ? *linted : *rebuilt;
        LogEvent(spdlog::level::info, "sign_intent",
                 {{"serial", record.serial},
                  {"issuer", record.issuer},
                  {"profile", record.profile},
                  {"request_id", record.request_id},
                  {"subject", record.subject}},
                 ActorLogFields(record.requested_by));
        absl::StatusOr<Botan::X509_Certificate> cert = issuer->second->Sign(plan);
        if (!cert.ok()) {
          const std::string error(cert.status().message());
          LogEvent(spdlog::level::err, "sign_failed",
                   {{"serial", record.serial}, {"error", error}});
          return cert.status();
        }
        std::vector<uint8_t> der = cert->BER_encode();
        const std::string sha256 = Botan::hex_encode(Sha256(der));
        LogEvent(spdlog::level::info, "signed",
                 {{"serial", record.serial}, {"sha256", sha256}, {"request_id", record.request_id}},
                 ActorLogFields(record.requested_by));
        return der;
      });
}

absl::StatusOr<CertificateRecord> CertificateAuthority::Get(const std::string& serial) {
  TESSERA_RETURN_IF_ERROR(CheckSerial(serial));
  return store_.Get(serial);
}

absl::StatusOr<CertificateRecord> CertificateAuthority::Read(const Actor& reader,
                                                             const std::string& serial) {
  TESSERA_RETURN_IF_ERROR(CheckSerial(serial));
  const ReadScope scope = ReadScopeOf(reader);
  // Scopes that need no record refuse before the lookup, so they learn nothing of it.
  if (scope.kind == ReadScope::Kind::kNothing ||
      (scope.kind == ReadScope::Kind::kOwnCertificate && serial != scope.serial)) {
    return scope.Allows("", "", serial);
  }
  TESSERA_ASSIGN_OR_RETURN(CertificateRecord record, store_.Get(serial));
  TESSERA_RETURN_IF_ERROR(scope.Allows(record.profile, record.subject, record.serial));
  return record;
}

absl::StatusOr<CertificateRecord> CertificateAuthority::Revoke(const std::string& request_id,
                                                               const std::string& serial,
                                                               int reason, const Actor& actor) {
  TESSERA_RETURN_IF_ERROR(CheckActor(actor));
  TESSERA_RETURN_IF_ERROR(CheckRequestId(request_id));
  TESSERA_RETURN_IF_ERROR(CheckSerial(serial));
  static const std::set<int> kLeafReasons = {0, 1, 3, 4, 5, 9};
  if (!kLeafReasons.contains(reason)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "reason: ", reason,
        " is not a reason to revoke a leaf (0 unspecified, 1 keyCompromise, 3 "
        "affiliationChanged, 4 superseded, 5 cessationOfOperation, 9 privilegeWithdrawn)"));
  }
  TESSERA_ASSIGN_OR_RETURN(CertificateRecord revoked,
                           store_.Revoke(request_id, serial, reason, clock_.Now(), actor));
  for (const auto& observer : on_revoked_) observer(serial);
  LogEvent(spdlog::level::info, "revoked",
           {{"serial", serial},
            {"issuer", revoked.issuer},
            {"reason", std::to_string(reason)},
            {"request_id", request_id}},
           ActorLogFields(actor));
  return revoked;
}

absl::StatusOr<int> CertificateAuthority::RecordCeremonyCertificates(
    const std::vector<Botan::X509_Certificate>& certificates) {
  int recorded = 0;
  for (const Botan::X509_Certificate& cert : certificates) {
    const std::string serial = SerialHex(Botan::BigInt(cert.serial_number()));
    const std::string where = absl::StrCat("ceremony certificate ", serial);
    auto issuer = std::find_if(issuers_.begin(), issuers_.end(), [&](const auto& entry) {
      const Botan::X509_Certificate& ca = entry.second->certificate();
      return cert.issuer_dn() == ca.subject_dn() &&
             cert.check_signature(*ca.load_subject_public_key());
    });
    if (issuer == issuers_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": not signed by any issuing CA of this tessera-ca"));
    }
    const std::vector<std::string> units =
        cert.subject_dn().get_attribute("X520.OrganizationalUnit");
    if (std::find(units.begin(), units.end(), "Servizi") == units.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": the ceremony issues only service and OCSP responder certificates"));
    }
    const bool responder = cert.has_ex_constraint(Botan::OID::from_string("PKIX.OCSPSigning"));
    const std::vector<uint8_t> der = cert.BER_encode();
    CertificateRecord record;
    record.serial = serial;
    record.request_id = "ceremony-" + serial;
    record.request_sha256 = Sha256(der);
    record.issuer = issuer->first;
    record.profile = responder ? kOcspResponderProfile : kServiceProfile;
    record.subject = Rfc2253(cert.subject_dn());
    record.subject_data =
        SubjectJson({.service = cert.subject_dn().get_first_attribute("X520.CommonName"),
                     .dns_names = cert.subject_alt_name().get_attribute("DNS"),
                     .ip_addresses = cert.subject_alt_name().get_attribute("IP")});
    record.subject_public_key = cert.subject_public_key_info();
    record.subject_key_sha256 = Sha256(record.subject_public_key);
    record.not_before = cert.not_before().to_std_timepoint();
    record.not_after = cert.not_after().to_std_timepoint();
    record.state = CertificateState::kIssued;
    record.der = der;
    record.requested_by = SystemActor(kSystemActorName);
    TESSERA_ASSIGN_OR_RETURN(bool fresh, store_.RecordIssued(record));
    if (fresh) {
      ++recorded;
      LogEvent(spdlog::level::info, "ceremony_certificate_recorded",
               {{"serial", serial}, {"issuer", record.issuer}, {"subject", record.subject}},
               ActorLogFields(record.requested_by));
    }
  }
  return recorded;
}

absl::StatusOr<std::vector<CertificateRecord>> CertificateAuthority::List(
    const Actor& reader, CertificateFilter filter) {
  if (filter.page_size < 1 || filter.page_size > 1000) {
    return absl::InvalidArgumentError("page_size: 1 to 1000");
  }
  filter.scope = ReadScopeOf(reader);
  if (filter.scope.kind == ReadScope::Kind::kNothing) {
    return absl::PermissionDeniedError(absl::StrCat("certificates: ", filter.scope.rule));
  }
  return store_.List(filter);
}

}  // namespace tessera::ca
