// The registry's stores in PostgreSQL (schema "registry", migrations in registry/migrations/).
// Each class implements one store interface; PgRegistryStores holds them all over one pool, as
// tessera-registry runs them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "platform/migrations.h"
#include "platform/pg_pool.h"
#include "registry/access_code.h"
#include "registry/census_office.h"
#include "registry/census_store.h"
#include "registry/code_mismatches.h"
#include "registry/daily_access.h"
#include "registry/login_store.h"
#include "registry/ministry_operators.h"
#include "registry/order_queue.h"
#include "registry/reference_store.h"
#include "registry/workstation_certificates.h"

namespace tessera::registry {

inline constexpr char kPgSchema[] = "registry";
// The schema's migrations, in order (registry/migrations/V*.sql).
std::vector<pg::Migration> PgMigrations();

class PgReferenceStore final : public ReferenceStore {
 public:
  explicit PgReferenceStore(pg::ConnectionPool& pool) : pool_(pool) {}

  absl::StatusOr<ReferenceLoadReport> Load(const ReferenceData& data,
                                           std::chrono::system_clock::time_point now,
                                           const Request& request) override;
  absl::StatusOr<ReferenceData> ReadAll() override;

  // A live comune by ISTAT code; nullopt if there is none.
  absl::StatusOr<std::optional<Comune>> FindComune(const std::string& istat);
  // Every cadastral code the place `name` in province `sigla` ("EE" and the state's name for a
  // foreign state) has had, matched on letters only ("Sant'Angelo" = "SANT ANGELO").
  absl::StatusOr<std::vector<std::string>> BirthplaceCodes(const std::string& name,
                                                           const std::string& sigla);

 private:
  pg::ConnectionPool& pool_;
};

class PgDeclarationStore final : public DeclarationStore {
 public:
  explicit PgDeclarationStore(pg::ConnectionPool& pool) : pool_(pool) {}

  absl::Status Set(const std::string& istat, const ComuneDeclaration& declaration,
                   std::chrono::system_clock::time_point now, const Request& request) override;
  absl::StatusOr<std::optional<ComuneDeclaration>> Get(const std::string& istat) override;
  absl::StatusOr<std::map<std::string, ComuneDeclaration>> GetMany(
      const std::vector<std::string>& istat) override;

 private:
  pg::ConnectionPool& pool_;
};

// Censuses are rows of registry.censuses holding the census as JSON (census_json.h);
// submission writes persons, census_users, card_orders and workstation_orders in the same
// transaction (FOR UPDATE on the census row: two submissions of one census queue up).
class PgCensusStore final : public CensusStore {
 public:
  explicit PgCensusStore(pg::ConnectionPool& pool) : pool_(pool) {}

  absl::StatusOr<CensusRecord> SaveDraft(const std::string& owner, const CensusDocument& census,
                                         std::chrono::system_clock::time_point now,
                                         const Request& request) override;
  absl::Status SaveDrafts(const std::vector<ComuneCensus>& censuses,
                          std::chrono::system_clock::time_point now,
                          const Request& request) override;
  absl::StatusOr<CensusRecord> Get(CensusKind kind, const std::string& owner) override;
  absl::StatusOr<std::vector<CensusSummary>> List(const CensusFilter& filter) override;
  absl::StatusOr<SubmitResult> Submit(const Submission& submission,
                                      std::chrono::system_clock::time_point now,
                                      const Request& request,
                                      std::vector<Violation>* disagreements = nullptr) override;

 private:
  pg::ConnectionPool& pool_;
};

class PgAccessCodeStore final : public AccessCodeStore {
 public:
  explicit PgAccessCodeStore(pg::ConnectionPool& pool) : pool_(pool) {}

  absl::Status Put(const std::string& office, const AccessCodeDigest& digest,
                   std::chrono::system_clock::time_point issued_at,
                   std::chrono::system_clock::time_point expires_at,
                   const Request& request) override;
  absl::StatusOr<bool> IsValid(const AccessCode& code,
                               std::chrono::system_clock::time_point now) override;

 private:
  pg::ConnectionPool& pool_;
};

// FOR UPDATE SKIP LOCKED: several personalization daemons share the queue without waiting on
// each other or taking the same order.
class PgOrderQueue final : public OrderQueue {
 public:
  explicit PgOrderQueue(pg::ConnectionPool& pool) : pool_(pool) {}

  absl::StatusOr<std::vector<CardOrder>> ClaimCardOrders(const std::string& worker, int limit,
                                                         std::chrono::seconds lease,
                                                         std::chrono::system_clock::time_point now,
                                                         const ClaimScope& scope) override;
  absl::StatusOr<std::vector<WorkstationOrder>> ClaimWorkstationOrders(
      const std::string& worker, int limit, std::chrono::seconds lease,
      std::chrono::system_clock::time_point now, const ClaimScope& scope) override;
  absl::StatusOr<int64_t> CountOpenOrders(const ClaimScope& scope) override;
  std::vector<absl::StatusOr<bool>> Report(const std::string& worker,
                                           std::span<const OrderOutcome> outcomes,
                                           std::chrono::system_clock::time_point now) override;

 private:
  pg::ConnectionPool& pool_;
};

class PgMinistryOperatorStore final : public MinistryOperatorStore {
 public:
  explicit PgMinistryOperatorStore(pg::ConnectionPool& pool) : pool_(pool) {}

  absl::StatusOr<Added> Add(const CensusUser& person, const ChangeRequest& change,
                            std::chrono::system_clock::time_point now, const Actor& actor,
                            std::vector<Violation>* disagreements = nullptr) override;
  absl::StatusOr<bool> Remove(const std::string& codice_fiscale, const ChangeRequest& change,
                              std::chrono::system_clock::time_point now,
                              const Actor& actor) override;
  absl::StatusOr<std::vector<MinistryOperator>> List() override;
  absl::StatusOr<bool> IsOperator(const std::string& codice_fiscale) override;

 private:
  pg::ConnectionPool& pool_;
};

class PgCodeMismatchStore final : public CodeMismatchStore {
 public:
  explicit PgCodeMismatchStore(pg::ConnectionPool& pool) : pool_(pool) {}

  absl::StatusOr<bool> Accept(const std::string& codice_fiscale, const std::string& part,
                              const ChangeRequest& change,
                              std::chrono::system_clock::time_point now,
                              const Actor& actor) override;
  absl::StatusOr<AcceptedMismatches> All() override;

 private:
  pg::ConnectionPool& pool_;
};

// Card login's challenges and sessions (registry.login_challenges, registry.sessions).
class PgLoginStore final : public LoginStore {
 public:
  explicit PgLoginStore(pg::ConnectionPool& pool) : pool_(pool) {}

  absl::Status PutChallenge(const LoginChallenge& challenge) override;
  absl::StatusOr<LoginChallenge> TakeChallenge(const std::string& id,
                                               std::chrono::system_clock::time_point now) override;
  absl::StatusOr<LoginStanding> StandingOf(const std::string& codice_fiscale,
                                           const access::Office& office) override;
  absl::StatusOr<std::optional<OfficeUser>> UserAt(const std::string& codice_fiscale,
                                                   const access::Office& office) override;
  absl::Status OpenSession(const SessionRecord& session) override;
  absl::StatusOr<SessionRecord> GetSession(const std::string& id) override;
  absl::Status ExtendSession(const std::string& id,
                             std::chrono::system_clock::time_point expires_at) override;
  absl::StatusOr<bool> EndSession(const std::string& id, const std::string& reason,
                                  std::chrono::system_clock::time_point now) override;
  absl::StatusOr<int> EndSessionsOf(const std::string& codice_fiscale, const std::string& office,
                                    const std::string& reason,
                                    std::chrono::system_clock::time_point now) override;
  absl::StatusOr<std::vector<SessionRecord>> LiveCardSessions(
      std::chrono::system_clock::time_point now) override;
  absl::StatusOr<bool> MinistryOperatorLoggedIn() override;
  absl::StatusOr<access::SessionState> EndedSince(
      int64_t cursor, std::chrono::system_clock::time_point now) override;

 private:
  pg::ConnectionPool& pool_;
};

// The temporary daily password's grants, passwords (hashes), attempts and outbox mail.
class PgDailyAccessStore final : public DailyAccessStore {
 public:
  explicit PgDailyAccessStore(pg::ConnectionPool& pool) : pool_(pool) {}

  absl::StatusOr<std::string> MailboxAt(const std::string& codice_fiscale,
                                        const access::Office& office) override;
  absl::Status Grant(const DailyGrant& grant, const DayPassword& today, const OutboxMail& mail,
                     const Request& request) override;
  absl::StatusOr<std::vector<Due>> DueOn(std::chrono::year_month_day today) override;
  absl::Status Issue(const Due& due, const DayPassword& password, const OutboxMail& mail) override;
  absl::StatusOr<std::optional<DayPassword>> PasswordOn(const std::string& codice_fiscale,
                                                        const access::Office& office,
                                                        std::chrono::year_month_day today) override;
  absl::Status RecordAttempt(const std::string& codice_fiscale, const std::string& machine,
                             bool succeeded, std::chrono::system_clock::time_point at) override;
  absl::StatusOr<Failures> FailuresSince(
      const std::string& codice_fiscale, const std::string& machine,
      std::chrono::system_clock::time_point person_since,
      std::chrono::system_clock::time_point machine_since) override;

 private:
  pg::ConnectionPool& pool_;
};

// The workstation orders as their certificates stand, and the ALP's downloads.
class PgWorkstationStore final : public WorkstationStore {
 public:
  explicit PgWorkstationStore(pg::ConnectionPool& pool) : pool_(pool) {}

  absl::StatusOr<std::vector<Workstation>> WorkstationsOf(const std::string& owner) override;
  absl::Status RecordDownload(const WorkstationDownload& download) override;

 private:
  pg::ConnectionPool& pool_;
};

// Every store over one pool.
class PgRegistryStores {
 public:
  explicit PgRegistryStores(pg::ConnectionPool& pool)
      : reference(pool),
        declarations(pool),
        censuses(pool),
        access_codes(pool),
        orders(pool),
        ministry(pool),
        mismatches(pool) {}

  RegistryStores View() {
    return {reference, declarations, censuses, access_codes, orders, ministry, mismatches};
  }

  PgReferenceStore reference;
  PgDeclarationStore declarations;
  PgCensusStore censuses;
  PgAccessCodeStore access_codes;
  PgOrderQueue orders;
  PgMinistryOperatorStore ministry;
  PgCodeMismatchStore mismatches;
};

}  // namespace tessera::registry
