#include "ca/authority.h"

#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/x509_key.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <system_error>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ca/csr.h"
#include "platform/log.h"
#include "platform/random.h"
#include "platform/request_id.h"
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

struct CertificateAuthority::Attempt {
  const Target* target = nullptr;
  std::vector<uint8_t> request_sha256;  // what the request_id stands for (empty: not reached)
  std::optional<LintedPlan> plan;       // set when planned and linted
  CertificateRecord intent;             // the intent to record, with a plan
  absl::Status refusal;                 // without a plan
  bool may_be_retry = false;            // the refusal came after request_sha256
};

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
  const Target target{&request, *profile, (*profile)->issuer};
  return std::move(IssueUnder(std::span(&target, 1), actor).front());
}

absl::StatusOr<std::vector<absl::StatusOr<CertificateRecord>>> CertificateAuthority::IssueBatch(
    std::span<const IssueRequest> requests, const Actor& actor) {
  if (requests.empty() || requests.size() > kMaxBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("requests: ", requests.size(), " in the batch, 1 to ", kMaxBatch));
  }
  std::map<std::string, size_t> first_of;
  for (size_t i = 0; i < requests.size(); ++i) {
    auto [first, fresh] = first_of.emplace(requests[i].request_id, i);
    if (!fresh) {
      return absl::InvalidArgumentError(absl::StrCat("requests[", i, "].request_id: '",
                                                     requests[i].request_id, "' is also requests[",
                                                     first->second, "]'s, once per batch"));
    }
  }
  // Requests for an unknown or not requestable profile are refused one by one; the rest
  // go on together.
  std::vector<absl::StatusOr<CertificateRecord>> results(requests.size(),
                                                         absl::InternalError("not issued"));
  std::vector<Target> targets;
  std::vector<size_t> target_of;
  for (size_t i = 0; i < requests.size(); ++i) {
    absl::StatusOr<const Profile*> profile = profiles_.Find(requests[i].profile);
    if (!profile.ok()) {
      results[i] =
          absl::InvalidArgumentError(absl::StrCat("profile: ", profile.status().message()));
    } else if (!(*profile)->requestable) {
      results[i] = absl::InvalidArgumentError(
          absl::StrCat("profile: '", requests[i].profile,
                       "' is issued only by the key ceremony and tessera-ca itself"));
    } else {
      targets.push_back({&requests[i], *profile, (*profile)->issuer});
      target_of.push_back(i);
    }
  }
  std::vector<absl::StatusOr<CertificateRecord>> issued = IssueUnder(targets, actor);
  for (size_t k = 0; k < issued.size(); ++k) results[target_of[k]] = std::move(issued[k]);
  return results;
}

absl::StatusOr<CertificateRecord> CertificateAuthority::IssueOcspResponder(
    const std::string& issuer, const std::string& request_id, std::vector<uint8_t> csr_der,
    const Actor& actor) {
  TESSERA_ASSIGN_OR_RETURN(const Profile* profile, profiles_.Find(kOcspResponderProfile));
  const IssueRequest request{.request_id = request_id,
                             .profile = kOcspResponderProfile,
                             .csr_der = std::move(csr_der),
                             .subject = {.service = OcspResponderName(issuer)}};
  const Target target{&request, profile, issuer};
  return std::move(IssueUnder(std::span(&target, 1), actor).front());
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
  const Target target{&request, profile, profile->issuer};
  return std::move(IssueUnder(std::span(&target, 1), actor).front());
}

CertificateAuthority::Attempt CertificateAuthority::Prepare(const Target& target,
                                                            const Actor& actor) {
  const IssueRequest& request = *target.request;
  Attempt attempt{.target = &target};
  auto refuse = [&](absl::Status refusal) {
    attempt.refusal = std::move(refusal);
    attempt.may_be_retry = !attempt.request_sha256.empty();
    return attempt;
  };
  if (absl::Status ok = CheckActor(actor); !ok.ok()) return refuse(ok);
  if (absl::Status ok = CheckRequestId(request.request_id); !ok.ok()) return refuse(ok);
  if (absl::Status ok = profiles_.CheckProgressive(*target.profile, request.subject.progressive);
      !ok.ok()) {
    return refuse(ok);
  }
  absl::StatusOr<std::unique_ptr<Botan::Public_Key>> key = CheckCsr(request.csr_der);
  if (!key.ok()) return refuse(key.status());

  // What this request_id stands for: a retry must ask for exactly the same thing. The key
  // counts, not the CSR's bytes: a CSR signed again with the same key is the same request.
  const std::string subject_json = SubjectJson(request.subject);
  const std::vector<uint8_t> public_key = (*key)->subject_public_key();
  std::vector<uint8_t> fingerprint_input(request.profile.begin(), request.profile.end());
  fingerprint_input.push_back(0);
  fingerprint_input.insert(fingerprint_input.end(), public_key.begin(), public_key.end());
  fingerprint_input.push_back(0);
  fingerprint_input.insert(fingerprint_input.end(), subject_json.begin(), subject_json.end());
  attempt.request_sha256 = Sha256(fingerprint_input);

  // A fresh request is planned, linted and recorded without first looking its request_id up:
  // retries are rare, so the lookup happens only when something refuses (the insert finds the
  // request_id taken, or planning fails because, say, the profile changed since).
  auto issuer = issuers_.find(target.issuer);
  if (issuer == issuers_.end()) {
    return refuse(absl::FailedPreconditionError(absl::StrCat("profile '", request.profile,
                                                             "' needs issuing CA '", target.issuer,
                                                             "', which this CA does not hold")));
  }
  absl::StatusOr<CertificatePlan> planned =
      PlanCertificate(*target.profile, request.subject, **key, issuer->second->context(),
                      RandomSerial(ThreadRng()), clock_.Now());
  if (!planned.ok()) return refuse(planned.status());
  absl::StatusOr<LintedPlan> linted = issuer->second->Check(std::move(*planned));
  if (!linted.ok()) return refuse(linted.status());
  const CertificatePlan* plan = &linted->plan();

  CertificateRecord& intent = attempt.intent;
  intent.serial = SerialHex(plan->serial);
  intent.request_id = request.request_id;
  intent.request_sha256 = attempt.request_sha256;
  intent.issuer = issuer->first;
  intent.profile = request.profile;
  intent.subject = Rfc2253(plan->subject);
  intent.subject_data = subject_json;
  intent.subject_public_key = plan->subject_public_key;
  intent.subject_key_sha256 = Sha256(plan->subject_public_key);
  intent.not_before = plan->not_before;
  intent.not_after = plan->not_after;
  intent.requested_by = actor;
  attempt.plan = std::move(*linted);
  return attempt;
}

namespace {

// Runs work(i) for i in [0, n), on up to one thread per core when n is large enough for the
// threads to pay off (a batch's CSR checks and token signatures are independent). An
// exception thrown by work reaches the caller, as it would without the threads.
void ForEach(size_t n, const std::function<void(size_t)>& work) {
  constexpr size_t kPerThread = 4;
  const size_t threads =
      std::min<size_t>(n / kPerThread, std::max(1u, std::thread::hardware_concurrency()));
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) work(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::mutex failure_mutex;
  std::exception_ptr failure;
  auto drain = [&] {
    try {
      for (size_t i = next++; i < n; i = next++) work(i);
    } catch (...) {
      std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::current_exception();
      next = n;  // the others stop at their next item
    }
  };
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) {
    try {
      helpers.emplace_back(drain);
    } catch (const std::system_error&) {
      break;  // no thread to be had: this one does the rest
    }
  }
  drain();
  for (std::thread& helper : helpers) helper.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

std::vector<absl::StatusOr<CertificateRecord>> CertificateAuthority::IssueUnder(
    std::span<const Target> targets, const Actor& actor) {
  std::vector<Attempt> attempts(targets.size());
  ForEach(targets.size(), [&](size_t i) { attempts[i] = Prepare(targets[i], actor); });
  std::vector<absl::StatusOr<CertificateRecord>> results(targets.size(),
                                                         absl::InternalError("not issued"));

  // The intents: marked in flight before they are committed, so that a concurrent retry that
  // finds one waits for this call instead of signing it a second time.
  std::vector<size_t> planned;
  std::vector<CertificateRecord> intents;
  for (size_t i = 0; i < attempts.size(); ++i) {
    if (!attempts[i].plan) continue;
    planned.push_back(i);
    intents.push_back(attempts[i].intent);
  }
  std::vector<std::string> serials;
  for (const CertificateRecord& intent : intents) serials.push_back(intent.serial);
  {
    std::lock_guard lock(in_flight_.mutex);
    in_flight_.serials.insert(serials.begin(), serials.end());
  }
  // However this call ends (an exception included), its intents are no longer in flight.
  class Landing {
   public:
    Landing(InFlight& in_flight, const std::vector<std::string>& serials)
        : in_flight_(in_flight), serials_(serials) {}
    ~Landing() { Land(); }
    void Land() {
      if (landed_) return;
      landed_ = true;
      {
        std::lock_guard lock(in_flight_.mutex);
        for (const std::string& serial : serials_) in_flight_.serials.erase(serial);
      }
      in_flight_.finished.notify_all();
    }

   private:
    InFlight& in_flight_;
    const std::vector<std::string>& serials_;
    bool landed_ = false;
  } landing(in_flight_, serials);
  const std::vector<absl::Status> recorded = store_.RecordIntents(intents);

  // Sign every recorded intent, then store the certificates together.
  std::vector<size_t> signing;
  for (size_t k = 0; k < planned.size(); ++k) {
    Attempt& attempt = attempts[planned[k]];
    if (recorded[k].ok()) {
      signing.push_back(k);
    } else if (absl::IsAlreadyExists(recorded[k]) || absl::IsFailedPrecondition(recorded[k])) {
      // The request_id is taken (a retry, or a concurrent call that won the insert; its row
      // can trip the request_id or the live-key constraint first), or the key is in another
      // live certificate: answer as a retry would, or with the refusal.
      attempt.refusal = recorded[k];
      attempt.may_be_retry = true;
    } else {
      results[planned[k]] = recorded[k];
    }
  }
  std::vector<absl::StatusOr<std::vector<uint8_t>>> signatures(signing.size(),
                                                               absl::InternalError("unsigned"));
  ForEach(signing.size(), [&](size_t j) {
    const size_t k = signing[j];
    signatures[j] = Sign(intents[k], &*attempts[planned[k]].plan);
  });
  std::vector<SignedCertificate> signed_certificates;
  std::vector<size_t> storing;
  for (size_t j = 0; j < signing.size(); ++j) {
    const size_t k = signing[j];
    if (!signatures[j].ok()) {
      results[planned[k]] = signatures[j].status();  // the intent stays; a retry completes it
      continue;
    }
    signed_certificates.push_back({intents[k].serial, std::move(*signatures[j])});
    storing.push_back(k);
  }
  const std::vector<absl::StatusOr<bool>> stored = signed_certificates.empty()
                                                       ? std::vector<absl::StatusOr<bool>>()
                                                       : store_.StoreSigned(signed_certificates);
  for (size_t j = 0; j < storing.size(); ++j) {
    const size_t k = storing[j];
    CertificateRecord& intent = intents[k];
    if (!stored[j].ok()) {
      results[planned[k]] = stored[j].status();
    } else if (*stored[j]) {
      intent.state = CertificateState::kIssued;
      intent.der = std::move(signed_certificates[j].der);
      results[planned[k]] = std::move(intent);
    } else {
      // Another completion (a retry in another tessera-ca) stored its certificate first.
      LogEvent(spdlog::level::warn, "signature_discarded",
               {{"serial", intent.serial}, {"request_id", intent.request_id}});
      results[planned[k]] = store_.Get(intent.serial);
    }
  }
  landing.Land();

  // Last, the refusals that may be retries: this call's own intents are settled by now, so
  // waiting for another call's can never wait on this one.
  for (size_t i = 0; i < attempts.size(); ++i) {
    if (attempts[i].plan && !attempts[i].may_be_retry) continue;
    results[i] = attempts[i].may_be_retry ? AnswerRetry(attempts[i]) : attempts[i].refusal;
  }
  return results;
}

absl::StatusOr<CertificateRecord> CertificateAuthority::AnswerRetry(const Attempt& attempt) {
  const std::string& request_id = attempt.target->request->request_id;
  TESSERA_ASSIGN_OR_RETURN(std::optional<CertificateRecord> existing,
                           store_.FindByRequestId(request_id));
  if (!existing.has_value()) return attempt.refusal;
  if (existing->request_sha256 != attempt.request_sha256) {
    return absl::AlreadyExistsError(
        absl::StrCat("request_id: '", request_id, "' was already used for a different request"));
  }
  if (existing->state == CertificateState::kIssued) return *existing;  // signs nothing
  return Complete(*existing);  // an intent a crash (or a concurrent call) left
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

absl::StatusOr<std::vector<uint8_t>> CertificateAuthority::Sign(const CertificateRecord& record,
                                                                const LintedPlan* linted) {
  auto issuer = issuers_.find(record.issuer);
  if (issuer == issuers_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("intent ", record.serial, ": issuing CA '", record.issuer, "' is not held"));
  }
  std::optional<LintedPlan> rebuilt;
  if (linted == nullptr) {
    TESSERA_ASSIGN_OR_RETURN(CertificatePlan plan, RebuildPlan(record, *issuer->second));
    TESSERA_ASSIGN_OR_RETURN(rebuilt, issuer->second->Check(std::move(plan)));
  }
  const LintedPlan& plan = linted != nullptr ? *linted : *rebuilt;
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
    LogEvent(spdlog::level::err, "sign_failed", {{"serial", record.serial}, {"error", error}});
    return cert.status();
  }
  std::vector<uint8_t> der = cert->BER_encode();
  const std::string sha256 = Botan::hex_encode(Sha256(der));
  LogEvent(spdlog::level::info, "signed",
           {{"serial", record.serial}, {"sha256", sha256}, {"request_id", record.request_id}},
           ActorLogFields(record.requested_by));
  return der;
}

absl::StatusOr<CertificateRecord> CertificateAuthority::Complete(const CertificateRecord& intent) {
  bool waited = false;
  {
    std::unique_lock lock(in_flight_.mutex);
    while (in_flight_.serials.contains(intent.serial)) {
      waited = true;
      in_flight_.finished.wait(lock);
    }
  }
  if (waited) {
    TESSERA_ASSIGN_OR_RETURN(CertificateRecord now, store_.Get(intent.serial));
    if (now.state == CertificateState::kIssued) return now;
  }
  return store_.CompleteIssuance(
      intent.serial, [&](const CertificateRecord& record) { return Sign(record, nullptr); });
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
  // Personalization withdraws the certificate of a card it gives up: its own requests only,
  // and only as superseded.
  if (actor.kind == "service" && actor.name == "tessera-perso") {
    TESSERA_ASSIGN_OR_RETURN(CertificateRecord record, store_.Get(serial));
    if (record.requested_by.kind != actor.kind || record.requested_by.name != actor.name) {
      return absl::PermissionDeniedError(
          absl::StrCat("serial: tessera-perso may revoke only certificates it asked for; ", serial,
                       " was asked for by ", record.requested_by.name));
    }
    if (reason != 4) {
      return absl::PermissionDeniedError(
          "reason: tessera-perso withdraws a card's certificate only as superseded (4)");
    }
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
