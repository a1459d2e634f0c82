// In-memory registry stores for unit tests of CensusOffice: the same contracts as the
// PostgreSQL ones (pg_stores.h, tested against a real server in tests/pg), kept in maps, with
// counters for what the office asked of them. Idempotency keys are PostgreSQL's to keep
// (registry.requests) and are not kept here.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "identity/codice_fiscale.h"
#include "registry/census_json.h"
#include "registry/census_office.h"

namespace tessera::registry::testing {

class FakeReferenceStore final : public ReferenceStore {
 public:
  absl::StatusOr<ReferenceLoadReport> Load(const ReferenceData& data,
                                           std::chrono::system_clock::time_point,
                                           const Request&) override {
    ReferenceLoadReport report;
    report.comuni_added = static_cast<int>(data.comuni.size());
    report.cadastral_codes = static_cast<int>(data.codes.size());
    data_ = data;
    return report;
  }
  absl::StatusOr<ReferenceData> ReadAll() override {
    ++reads;
    return data_;
  }
  int reads = 0;

 private:
  ReferenceData data_;
};

class FakeDeclarationStore final : public DeclarationStore {
 public:
  absl::Status Set(const std::string& istat, const ComuneDeclaration& declaration,
                   std::chrono::system_clock::time_point, const Request&) override {
    declarations[istat] = declaration;
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<ComuneDeclaration>> Get(const std::string& istat) override {
    auto it = declarations.find(istat);
    if (it == declarations.end()) return std::optional<ComuneDeclaration>();
    return std::optional<ComuneDeclaration>(it->second);
  }
  absl::StatusOr<std::map<std::string, ComuneDeclaration>> GetMany(
      const std::vector<std::string>& istat) override {
    std::map<std::string, ComuneDeclaration> out;
    for (const std::string& i : istat) {
      if (declarations.contains(i)) out[i] = declarations[i];
    }
    return out;
  }
  std::map<std::string, ComuneDeclaration> declarations;
};

// Censuses, persons (by PersonKey) and live cards, as a submission leaves them.
class FakeCensusStore final : public CensusStore {
 public:
  absl::StatusOr<CensusRecord> SaveDraft(const std::string& owner, const CensusDocument& census,
                                         std::chrono::system_clock::time_point now,
                                         const Request&) override {
    CensusRecord& record = censuses_[{KindOf(census), owner}];
    if (record.submitted) return absl::FailedPreconditionError("already submitted");
    record.id = record.id != 0 ? record.id : static_cast<int64_t>(censuses_.size());
    record.owner = owner;
    record.census = census;
    record.saved_at = now;
    ++record.revision;
    return record;
  }
  absl::Status SaveDrafts(const std::vector<ComuneCensus>& censuses,
                          std::chrono::system_clock::time_point now,
                          const Request& request) override {
    for (const ComuneCensus& c : censuses) {
      if (IsSubmitted(CensusKind::kComune, c.istat)) {
        return absl::FailedPreconditionError(absl::StrCat("census of ", c.istat, " submitted"));
      }
    }
    for (const ComuneCensus& c : censuses) {
      if (absl::StatusOr<CensusRecord> saved = SaveDraft(c.istat, c, now, request); !saved.ok()) {
        return saved.status();
      }
    }
    return absl::OkStatus();
  }
  absl::StatusOr<CensusRecord> Get(CensusKind kind, const std::string& owner) override {
    auto it = censuses_.find({kind, owner});
    if (it == censuses_.end()) return absl::NotFoundError(absl::StrCat("no census of ", owner));
    return it->second;
  }
  absl::StatusOr<std::vector<CensusSummary>> List(const CensusFilter&) override {
    return std::vector<CensusSummary>{};
  }
  absl::StatusOr<SubmitResult> Submit(const Submission& s,
                                      std::chrono::system_clock::time_point now, const Request&,
                                      std::vector<Violation>* disagreements_out) override {
    ++submissions;
    CensusRecord& record = censuses_[{s.kind(), s.owner}];
    if (record.submitted) {
      if (Json(record.census) != Json(s.census)) {
        return absl::FailedPreconditionError("already submitted");
      }
      SubmitResult repeated = results_[{s.kind(), s.owner}];
      repeated.repeated = true;
      return repeated;
    }
    SubmitResult result;
    std::vector<Violation> disagreements;
    std::map<std::string, PersonIdentity> persons = persons_;
    for (size_t i = 0; i < s.users().size(); ++i) {
      const CensusUser& u = s.users()[i];
      const std::string key = identity::PersonKey(u.codice_fiscale);
      auto [it, recorded] =
          persons.try_emplace(key, PersonIdentity{u.codice_fiscale, u.surname, u.name, u.birth_date,
                                                  u.birth_place, u.birth_province, u.sex});
      std::vector<Violation> differs =
          DisagreementsWithRecord(u, it->second, absl::StrCat("users[", i, "]"));
      disagreements.insert(disagreements.end(), differs.begin(), differs.end());
      if (!GetsCard(u, s.kind())) continue;
      if (live_cards_.contains(key)) {
        result.holders_with_a_card_already.push_back(it->second.codice_fiscale);
        continue;
      }
      const std::string number =
          absl::StrCat(s.card_prefix, absl::StrFormat("%010d", ++card_counters_[s.card_prefix]));
      result.card_orders.push_back({number, it->second.codice_fiscale, record.id,
                                    it->second.surname, it->second.name, s.owner});
    }
    if (!disagreements.empty()) {
      if (disagreements_out != nullptr) *disagreements_out = disagreements;
      return ToStatus(disagreements);
    }
    persons_ = std::move(persons);
    for (const CardOrder& o : result.card_orders) {
      live_cards_.insert(identity::PersonKey(o.codice_fiscale));
    }
    for (int p : s.workstation_progressives) {
      result.workstation_orders.push_back({s.workstation_owner, p, record.id, s.owner});
    }
    record.id = record.id != 0 ? record.id : static_cast<int64_t>(censuses_.size());
    record.owner = s.owner;
    record.census = s.census;
    record.submitted = true;
    record.saved_at = now;
    record.submitted_at = now;
    ++record.revision;
    result.census = record;
    results_[{s.kind(), s.owner}] = result;
    return result;
  }

  bool IsSubmitted(CensusKind kind, const std::string& owner) const {
    auto it = censuses_.find({kind, owner});
    return it != censuses_.end() && it->second.submitted;
  }
  int submissions = 0;

 private:
  static std::string Json(const CensusDocument& census) {
    if (const auto* c = std::get_if<ComuneCensus>(&census)) return ComuneCensusToJson(*c);
    return PrefetturaCensusToJson(std::get<PrefetturaCensus>(census));
  }

  std::map<std::pair<CensusKind, std::string>, CensusRecord> censuses_;
  std::map<std::pair<CensusKind, std::string>, SubmitResult> results_;
  std::map<std::string, PersonIdentity> persons_;  // by PersonKey
  std::set<std::string> live_cards_;               // PersonKeys
  std::map<std::string, int> card_counters_;
};

class FakeAccessCodeStore final : public AccessCodeStore {
 public:
  explicit FakeAccessCodeStore(const FakeCensusStore& censuses) : censuses_(censuses) {}

  absl::Status Put(const std::string& office, const AccessCodeDigest& digest,
                   std::chrono::system_clock::time_point,
                   std::chrono::system_clock::time_point expires_at, const Request&) override {
    const CensusOwner owner = CensusOwnerOf(office);
    if (censuses_.IsSubmitted(owner.kind, owner.owner)) {
      return absl::FailedPreconditionError("census submitted");
    }
    codes_[office] = {digest, expires_at};
    return absl::OkStatus();
  }
  absl::StatusOr<bool> IsValid(const AccessCode& code,
                               std::chrono::system_clock::time_point now) override {
    ++lookups;
    auto it = codes_.find(code.office);
    const CensusOwner owner = CensusOwnerOf(code.office);
    return it != codes_.end() && it->second.first == code.digest && now < it->second.second &&
           !censuses_.IsSubmitted(owner.kind, owner.owner);
  }
  int lookups = 0;

 private:
  const FakeCensusStore& censuses_;
  std::map<std::string, std::pair<AccessCodeDigest, std::chrono::system_clock::time_point>> codes_;
};

// Records each claim and report; hands out nothing (the queue's semantics are PostgreSQL's,
// tested there).
class FakeOrderQueue final : public OrderQueue {
 public:
  struct Claim {
    std::string worker;
    int limit;
    std::chrono::seconds lease;
    ClaimScope scope;
  };
  absl::StatusOr<std::vector<CardOrder>> ClaimCardOrders(const std::string& worker, int limit,
                                                         std::chrono::seconds lease,
                                                         std::chrono::system_clock::time_point,
                                                         const ClaimScope& scope) override {
    claims.push_back({worker, limit, lease, scope});
    return std::vector<CardOrder>{};
  }
  absl::StatusOr<std::vector<WorkstationOrder>> ClaimWorkstationOrders(
      const std::string&, int, std::chrono::seconds, std::chrono::system_clock::time_point,
      const ClaimScope&) override {
    return std::vector<WorkstationOrder>{};
  }
  absl::StatusOr<int64_t> CountOpenOrders(const ClaimScope&) override { return 0; }
  std::vector<absl::StatusOr<bool>> Report(const std::string& worker,
                                           std::span<const OrderOutcome> outcomes,
                                           std::chrono::system_clock::time_point) override {
    for (const OrderOutcome& o : outcomes) reported.emplace_back(worker, o.order);
    return std::vector<absl::StatusOr<bool>>(outcomes.size(), false);
  }
  std::vector<Claim> claims;                                  // card claims, in order
  std::vector<std::pair<std::string, std::string>> reported;  // (worker, order), in order
};

class FakeMinistryOperatorStore final : public MinistryOperatorStore {
 public:
  absl::StatusOr<Added> Add(const CensusUser& person, const ChangeRequest&,
                            std::chrono::system_clock::time_point, const Actor&,
                            std::vector<Violation>*) override {
    if (!operators.insert(identity::PersonKey(person.codice_fiscale)).second) {
      return absl::FailedPreconditionError("already an operator");
    }
    return Added{person.codice_fiscale,
                 absl::StrFormat("000000%010d", static_cast<int>(operators.size())), true, false};
  }
  absl::StatusOr<bool> Remove(const std::string& codice_fiscale, const ChangeRequest&,
                              std::chrono::system_clock::time_point, const Actor&) override {
    if (operators.erase(identity::PersonKey(codice_fiscale)) == 0) {
      return absl::NotFoundError("no Ministry operator");
    }
    return false;
  }
  absl::StatusOr<std::vector<MinistryOperator>> List() override {
    return std::vector<MinistryOperator>{};
  }
  absl::StatusOr<bool> IsOperator(const std::string& codice_fiscale) override {
    ++lookups;
    if (unavailable) return absl::UnavailableError("database down");
    return operators.contains(identity::PersonKey(codice_fiscale));
  }
  std::set<std::string> operators;  // PersonKeys
  int lookups = 0;
  bool unavailable = false;
};

class FakeCodeMismatchStore final : public CodeMismatchStore {
 public:
  absl::StatusOr<bool> Accept(const std::string& codice_fiscale, const std::string& part,
                              const ChangeRequest&, std::chrono::system_clock::time_point,
                              const Actor&) override {
    return !accepted[codice_fiscale].insert(part).second;
  }
  absl::StatusOr<AcceptedMismatches> All() override { return accepted; }
  AcceptedMismatches accepted;
};

struct FakeRegistryStores {
  FakeReferenceStore reference;
  FakeDeclarationStore declarations;
  FakeCensusStore censuses;
  FakeAccessCodeStore access_codes{censuses};
  FakeOrderQueue orders;
  FakeMinistryOperatorStore ministry;
  FakeCodeMismatchStore mismatches;

  RegistryStores View() {
    return {reference, declarations, censuses, access_codes, orders, ministry, mismatches};
  }
};

}  // namespace tessera::registry::testing
