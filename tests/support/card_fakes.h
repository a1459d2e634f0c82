// What tests of the card maker put in place of tessera-perso's PostgreSQL journal and of
// tessera-ca: a journal in memory that can "die" once, and a CA in software that answers as
// tessera-ca does with request_id = the card number (the same request again gets the same
// certificate; another request for the same card is refused).
#pragma once

#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/pkcs10.h>
#include <botan/x509_ca.h>
#include <botan/x509self.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "personalization/card_maker.h"
#include "platform/random.h"

namespace tessera::testing {

// A journal in memory that can "die" once: after `crash_at`'s work, before its record.
class MemoryCardJournal final : public personalization::CardJournal {
 public:
  absl::StatusOr<std::optional<personalization::CardRecord>> Load(
      const std::string& card_number) override {
    auto it = records_.find(card_number);
    if (it == records_.end()) return std::optional<personalization::CardRecord>();
    return std::optional<personalization::CardRecord>(it->second);
  }
  absl::Status Save(const personalization::CardRecord& record) override {
    if (record.done == crash_at) {
      crash_at = personalization::CardStep::kNone;
      return absl::UnavailableError(absl::StrCat(
          "died before recording '", std::string(personalization::CardStepName(record.done)), "'"));
    }
    records_[record.card_number] = record;
    return absl::OkStatus();
  }
  personalization::CardStep crash_at = personalization::CardStep::kNone;

 private:
  std::map<std::string, personalization::CardRecord> records_;
};

class SoftwareCardCa final : public personalization::CardCertifier {
 public:
  SoftwareCardCa() : key_(ThreadRng(), Botan::EC_Group("secp256r1")) {
    Botan::X509_Cert_Options options("tessera test operators CA/IT");
    options.CA_key();
    certificate_ = Botan::X509::create_self_signed_cert(options, key_, "SHA-256", ThreadRng());
  }
  absl::StatusOr<std::vector<uint8_t>> Certify(const personalization::CardToMake& card,
                                               std::span<const uint8_t> request,
                                               int attempt) override {
    const std::string request_id = personalization::CardRequestId(card.card_number, attempt);
    auto it = issued_.find(request_id);
    if (it != issued_.end()) {
      if (it->second.first != std::vector<uint8_t>(request.begin(), request.end())) {
        return absl::AlreadyExistsError("request_id: used for another request");
      }
      return it->second.second;
    }
    Botan::X509_CA ca(certificate_, key_, "SHA-256", ThreadRng());
    Botan::PKCS10_Request csr(std::vector<uint8_t>(request.begin(), request.end()));
    const auto now = std::chrono::system_clock::now();
    std::vector<uint8_t> der =
        ca.sign_request(csr, ThreadRng(), Botan::X509_Time(now),
                        Botan::X509_Time(now + std::chrono::hours(24 * 365 * 6)))
            .BER_encode();
    issued_[request_id] = {std::vector<uint8_t>(request.begin(), request.end()), der};
    return der;
  }
  absl::Status Withdraw(const personalization::CardToMake&,
                        std::span<const uint8_t> certificate) override {
    withdrawn_.insert(std::vector<uint8_t>(certificate.begin(), certificate.end()));
    return absl::OkStatus();
  }
  size_t issued() const { return issued_.size(); }
  size_t withdrawn() const { return withdrawn_.size(); }
  bool IsWithdrawn(const std::vector<uint8_t>& certificate) const {
    return withdrawn_.contains(certificate);
  }

 private:
  std::set<std::vector<uint8_t>> withdrawn_;
  Botan::ECDSA_PrivateKey key_;
  Botan::X509_Certificate certificate_;
  std::map<std::string, std::pair<std::vector<uint8_t>, std::vector<uint8_t>>> issued_;
};

}  // namespace tessera::testing
