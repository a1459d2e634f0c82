#include "registry/census_store.h"

#include <botan/mem_ops.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "platform/clock.h"
#include "platform/status_macros.h"
#include "registry/census_json.h"
#include "registry/internal/person_rows.h"

namespace tessera::registry {
namespace {

using std::chrono::system_clock;

const char* KindName(CensusKind kind) {
  return kind == CensusKind::kComune ? "comune" : "prefettura";
}

constexpr char kCensusColumns[] =
    "id, kind, owner, state, document::text, revision, extract(epoch from saved_at)::bigint, "
    "extract(epoch from submitted_at)::bigint";

CensusRecord ReadCensus(const pg::Result& r, int row) {
  CensusRecord c;
  c.id = r.Int(row, 0);
  c.kind = r.Text(row, 1) == "comune" ? CensusKind::kComune : CensusKind::kPrefettura;
  c.owner = r.Text(row, 2);
  c.submitted = r.Text(row, 3) == "SUBMITTED";
  c.document = r.Text(row, 4);
  c.revision = static_cast<int>(r.Int(row, 5));
  c.saved_at = FromUnixSeconds(r.Int(row, 6));
  if (!r.IsNull(row, 7)) c.submitted_at = FromUnixSeconds(r.Int(row, 7));
  return c;
}

// The orders a submitted census created, for answering a repeated submission.
absl::StatusOr<SubmitResult> OrdersOf(pg::Connection& conn, CensusRecord census) {
  SubmitResult result;
  TESSERA_ASSIGN_OR_RETURN(pg::Result cards,
                           conn.Exec("SELECT o.card_number, o.codice_fiscale, p.surname, p.name "
                                     "FROM registry.card_orders o JOIN registry.persons p USING "
                                     "(codice_fiscale) WHERE o.census_id = $1 ORDER BY "
                                     "o.card_number",
                                     {pg::Param(census.id)}));
  for (int row = 0; row < cards.rows(); ++row) {
    result.card_orders.push_back({std::string(cards.Text(row, 0)), std::string(cards.Text(row, 1)),
                                  census.id, std::string(cards.Text(row, 2)),
                                  std::string(cards.Text(row, 3)), census.owner});
  }
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result stations,
      conn.Exec("SELECT workstation_owner, progressive FROM registry.workstation_orders "
                "WHERE census_id = $1 ORDER BY progressive",
                {pg::Param(census.id)}));
  for (int row = 0; row < stations.rows(); ++row) {
    result.workstation_orders.push_back({std::string(stations.Text(row, 0)),
                                         static_cast<int>(stations.Int(row, 1)), census.id,
                                         census.owner});
  }
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result elsewhere,
      conn.Exec("SELECT DISTINCT u.codice_fiscale FROM registry.census_users u JOIN "
                "registry.card_orders o ON o.codice_fiscale = u.codice_fiscale WHERE "
                "u.census_id = $1 AND o.census_id IS DISTINCT FROM $1 AND o.ended_at IS NULL "
                "ORDER BY 1",
                {pg::Param(census.id)}));
  for (int row = 0; row < elsewhere.rows(); ++row) {
    result.holders_with_a_card_already.emplace_back(elsewhere.Text(row, 0));
  }
  result.census = std::move(census);
  return result;
}

}  // namespace

absl::Status PgCensusStore::SetDeclaration(const std::string& istat, const ComuneDeclaration& d) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return conn
      ->Exec(
          "INSERT INTO registry.comune_declarations (istat, declared_workstations, "
          "declared_employees, switch_over) VALUES ($1, $2, $3, $4::date) "
          "ON CONFLICT (istat) DO UPDATE SET declared_workstations = EXCLUDED."
          "declared_workstations, declared_employees = EXCLUDED.declared_employees, "
          "switch_over = EXCLUDED.switch_over",
          {pg::Param(istat), pg::Param(d.declared_workstations), pg::Param(d.declared_employees),
           pg::Param(IsoDate(d.switch_over))})
      .status();
}

absl::StatusOr<std::optional<ComuneDeclaration>> PgCensusStore::GetDeclaration(
    const std::string& istat) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Result r,
                           conn->Exec("SELECT declared_workstations, declared_employees, "
                                      "switch_over::text FROM registry.comune_declarations "
                                      "WHERE istat = $1",
                                      {pg::Param(istat)}));
  if (r.rows() == 0) return std::optional<ComuneDeclaration>();
  TESSERA_ASSIGN_OR_RETURN(auto switch_over, ParseIsoDate(std::string(r.Text(0, 2))));
  return std::optional<ComuneDeclaration>(
      ComuneDeclaration{static_cast<int>(r.Int(0, 0)), static_cast<int>(r.Int(0, 1)), switch_over});
}

absl::StatusOr<std::map<std::string, ComuneDeclaration>> PgCensusStore::GetDeclarations(
    const std::vector<std::string>& istat) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Result r,
                           conn->Exec("SELECT istat, declared_workstations, declared_employees, "
                                      "switch_over::text FROM registry.comune_declarations "
                                      "WHERE istat = ANY ($1::text[])",
                                      {pg::Param::TextArray(istat)}));
  std::map<std::string, ComuneDeclaration> out;
  for (int row = 0; row < r.rows(); ++row) {
    TESSERA_ASSIGN_OR_RETURN(auto switch_over, ParseIsoDate(std::string(r.Text(row, 3))));
    out[std::string(r.Text(row, 0))] = {static_cast<int>(r.Int(row, 1)),
                                        static_cast<int>(r.Int(row, 2)), switch_over};
  }
  return out;
}

absl::StatusOr<CensusRecord> PgCensusStore::SaveDraft(CensusKind kind, const std::string& owner,
                                                      const std::string& document,
                                                      system_clock::time_point now) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  // Insert or overwrite the draft in one statement; a submitted census is left untouched.
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(absl::StrCat("INSERT INTO registry.censuses AS c (kind, owner, state, document, "
                              "saved_at) VALUES ($1, $2, 'DRAFT', $3::jsonb, to_timestamp($4)) "
                              "ON CONFLICT (kind, owner) DO UPDATE SET document = "
                              "EXCLUDED.document, saved_at = EXCLUDED.saved_at, revision = "
                              "c.revision + 1 WHERE c.state = 'DRAFT' RETURNING ",
                              kCensusColumns),
                 {pg::Param(KindName(kind)), pg::Param(owner), pg::Param(document),
                  pg::Param(UnixSeconds(now))}));
  if (r.rows() == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "census of ", owner, " is already submitted; changes go through the security console"));
  }
  return ReadCensus(r, 0);
}

absl::StatusOr<std::vector<CensusSummary>> PgCensusStore::List(const CensusFilter& f) {
  if (f.page_size < 1 || f.page_size > 1000) {
    return absl::InvalidArgumentError("page_size: 1 to 1000");
  }
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT owner, coalesce(document->>'name', document->>'province', ''), "
                 "state = 'SUBMITTED', revision, coalesce(jsonb_array_length(CASE WHEN "
                 "jsonb_typeof(document->'users') = 'array' THEN document->'users' END), 0), "
                 "extract(epoch from saved_at)::bigint FROM registry.censuses WHERE kind = $1 "
                 "AND ($2::boolean IS NULL OR (state = 'SUBMITTED') = $2::boolean) "
                 "AND owner > $3 ORDER BY owner LIMIT $4",
                 {pg::Param(KindName(f.kind)),
                  f.submitted ? pg::Param(*f.submitted) : pg::Param(std::nullopt),
                  pg::Param(f.page_token), pg::Param(f.page_size)}));
  std::vector<CensusSummary> out;
  for (int row = 0; row < r.rows(); ++row) {
    out.push_back({std::string(r.Text(row, 0)), std::string(r.Text(row, 1)), r.Bool(row, 2),
                   static_cast<int>(r.Int(row, 3)), static_cast<int>(r.Int(row, 4)),
                   FromUnixSeconds(r.Int(row, 5))});
  }
  return out;
}

absl::Status PgCensusStore::SaveDrafts(const std::vector<ComuneCensus>& censuses,
                                       system_clock::time_point now) {
  std::vector<std::string> owners, documents;
  for (const ComuneCensus& c : censuses) {
    owners.push_back(c.istat);
    documents.push_back(ComuneCensusToJson(c));
  }
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  // Refuse before writing if any of them is final: the import keeps all or nothing.
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result final,
      conn->Exec("SELECT owner FROM registry.censuses WHERE kind = 'comune' AND state = "
                 "'SUBMITTED' AND owner = ANY ($1::text[]) ORDER BY owner FOR UPDATE",
                 {pg::Param::TextArray(owners)}));
  if (final.rows() > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("census of ", std::string(final.Text(0, 0)),
                     " is already submitted; changes go through the security console"));
  }
  // The check above cannot see a census submitted between it and this statement (it locks
  // only rows that were submitted already): the overwrite itself is guarded, and a census it
  // skipped turns the whole import back.
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result written,
      conn->Exec("INSERT INTO registry.censuses AS c (kind, owner, state, document, saved_at) "
                 "SELECT 'comune', owner, 'DRAFT', document::jsonb, to_timestamp($3) FROM "
                 "unnest($1::text[], $2::text[]) AS t (owner, document) "
                 "ON CONFLICT (kind, owner) DO UPDATE SET document = EXCLUDED.document, "
                 "saved_at = EXCLUDED.saved_at, revision = c.revision + 1 "
                 "WHERE c.state = 'DRAFT' RETURNING owner",
                 {pg::Param::TextArray(owners), pg::Param::TextArray(documents),
                  pg::Param(UnixSeconds(now))}));
  if (written.rows() != static_cast<int>(owners.size())) {
    std::set<std::string, std::less<>> saved;
    for (int row = 0; row < written.rows(); ++row) saved.emplace(written.Text(row, 0));
    for (const std::string& owner : owners) {
      if (!saved.contains(owner)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "census of ", owner, " is already submitted; changes go through the security console"));
      }
    }
  }
  return tx.Commit();
}

absl::StatusOr<CensusRecord> PgCensusStore::Get(CensusKind kind, const std::string& owner) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(absl::StrCat("SELECT ", kCensusColumns,
                              " FROM registry.censuses WHERE kind = $1 AND owner = $2"),
                 {pg::Param(KindName(kind)), pg::Param(owner)}));
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("no census of ", KindName(kind), " ", owner));
  }
  return ReadCensus(r, 0);
}

absl::StatusOr<SubmitResult> PgCensusStore::Submit(const Submission& s,
                                                   system_clock::time_point now,
                                                   std::vector<Violation>* disagreements_out) {
  std::vector<Violation> disagreements;
  TESSERA_RETURN_IF_ERROR(CheckActor(*s.actor));
  const std::string& document = s.document;
  const pg::Param when(UnixSeconds(now));
  const pg::Param kind(KindName(s.kind));
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));

  // The census row, created if the owner never saved a draft, then locked.
  TESSERA_RETURN_IF_ERROR(
      conn->Exec("INSERT INTO registry.censuses (kind, owner, state, document, saved_at) "
                 "VALUES ($4, $1, 'DRAFT', $2::jsonb, to_timestamp($3)) "
                 "ON CONFLICT (kind, owner) DO NOTHING",
                 {pg::Param(s.owner), pg::Param(document), when, kind})
          .status());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result locked,
      conn->Exec(absl::StrCat("SELECT ", kCensusColumns,
                              ", document = $2::jsonb FROM "
                              "registry.censuses WHERE kind = $3 AND owner = $1 FOR UPDATE"),
                 {pg::Param(s.owner), pg::Param(document), kind}));
  CensusRecord record = ReadCensus(locked, 0);
  if (record.submitted) {
    if (locked.Bool(0, 8)) {  // a retry: the first submission and its submitter stand
      TESSERA_ASSIGN_OR_RETURN(SubmitResult repeated, OrdersOf(*conn, std::move(record)));
      repeated.repeated = true;
      return repeated;
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "census of ", s.owner, " is already submitted; changes go through the security console"));
  }
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result submitted,
      conn->Exec(
          absl::StrCat("UPDATE registry.censuses SET state = 'SUBMITTED', document = "
                       "$2::jsonb, saved_at = to_timestamp($3), submitted_at = "
                       "to_timestamp($3), revision = revision + 1, submitted_by_kind = "
                       "$4, submitted_by = $5, submitted_by_serial = NULLIF($6, ''), "
                       "submitted_call_id = NULLIF($7, '') WHERE id = $1 RETURNING ",
                       kCensusColumns),
          {pg::Param(record.id), pg::Param(document), when, pg::Param(s.actor->kind),
           pg::Param(s.actor->name), pg::Param(s.actor->serial), pg::Param(s.actor->call_id)}));
  SubmitResult result;
  result.census = ReadCensus(submitted, 0);
  const int64_t census_id = result.census.id;

  for (size_t i = 0; i < s.users->size(); ++i) {
    const CensusUser& u = (*s.users)[i];
    // The person is recorded once, by the first census naming them; this census must agree
    // with the record (its own mailbox and profiles are its own, in census_users).
    TESSERA_ASSIGN_OR_RETURN(PersonIdentity person, internal::RecordPerson(*conn, u, when));
    std::vector<Violation> differs =
        DisagreementsWithRecord(u, person, absl::StrCat("users[", i, "]"));
    if (!differs.empty()) {
      disagreements.insert(disagreements.end(), differs.begin(), differs.end());
      continue;
    }
    TESSERA_RETURN_IF_ERROR(
        conn->Exec("INSERT INTO registry.census_users (census_id, codice_fiscale, profiles, "
                   "email) VALUES ($1, $2, $3::text[], $4)",
                   {pg::Param(census_id), pg::Param(person.codice_fiscale),
                    pg::Param::TextArray(u.profiles), pg::Param(u.email)})
            .status());
    if (!GetsCard(u, s.kind)) continue;
    TESSERA_ASSIGN_OR_RETURN(std::optional<internal::LiveCard> live,
                             internal::FindLiveCard(*conn, person.codice_fiscale));
    if (live.has_value()) {  // one live card per person, whoever ordered it
      result.holders_with_a_card_already.push_back(person.codice_fiscale);
      continue;
    }
    TESSERA_ASSIGN_OR_RETURN(
        std::string card_number,
        internal::OrderCard(*conn, s.card_prefix, person.codice_fiscale, census_id, when));
    result.card_orders.push_back(
        {card_number, person.codice_fiscale, census_id, person.surname, person.name, s.owner});
  }
  if (!disagreements.empty()) {  // rolls back: nothing stored
    if (disagreements_out != nullptr) *disagreements_out = disagreements;
    return ToStatus(disagreements);
  }

  // The census is closed: its access code has no use left (offices are named as their
  // workstations are).
  TESSERA_RETURN_IF_ERROR(conn->Exec("DELETE FROM registry.census_access_codes WHERE office = $1",
                                     {pg::Param(s.workstation_owner)})
                              .status());
  for (int progressive : s.workstation_progressives) {
    TESSERA_RETURN_IF_ERROR(
        conn->Exec("INSERT INTO registry.workstation_orders (workstation_owner, progressive, "
                   "census_id, state, created_at) VALUES ($1, $2, $3, 'LAVORAZIONE', "
                   "to_timestamp($4))",
                   {pg::Param(s.workstation_owner), pg::Param(progressive), pg::Param(census_id),
                    when})
            .status());
    result.workstation_orders.push_back({s.workstation_owner, progressive, census_id, s.owner});
  }
  TESSERA_RETURN_IF_ERROR(tx.Commit());
  return result;
}

absl::Status PgCensusStore::PutAccessCode(const std::string& office, const AccessCodeDigest& digest,
                                          system_clock::time_point issued_at,
                                          system_clock::time_point expires_at, const Actor& actor) {
  TESSERA_RETURN_IF_ERROR(CheckActor(actor));
  const CensusOwner census = CensusOwnerOf(office);
  const bool comune = census.kind == CensusKind::kComune;
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  // The office must be in the reference list: a comune, or a province with current comuni.
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT (SELECT state FROM registry.censuses WHERE kind = $2 AND owner = $1) "
                 "WHERE EXISTS (SELECT 1 FROM registry.comuni WHERE CASE WHEN $2 = 'comune' "
                 "THEN istat = $1 ELSE province_code = $1 AND ceased_at IS NULL END)",
                 {pg::Param(census.owner), pg::Param(KindName(census.kind))}));
  const char* field = comune ? "istat" : "province_sigla";
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat(field, ": '", office, "' is no ",
                                            comune ? "comune" : "province",
                                            " in the reference list"));
  }
  if (!r.IsNull(0, 0) && r.Text(0, 0) == "SUBMITTED") {
    return absl::FailedPreconditionError(absl::StrCat(
        field, ": the census of ", census.owner,
        " is already submitted; it needs no access code (changes go through the security "
        "console)"));
  }
  TESSERA_RETURN_IF_ERROR(
      conn->Exec("INSERT INTO registry.census_access_codes (office, code_sha256, issued_at, "
                 "expires_at) VALUES ($1, $2, to_timestamp($3), to_timestamp($4)) ON CONFLICT "
                 "(office) DO UPDATE SET code_sha256 = EXCLUDED.code_sha256, issued_at = "
                 "EXCLUDED.issued_at, expires_at = EXCLUDED.expires_at",
                 {pg::Param(office), pg::Param::Bytes(digest), pg::Param(UnixSeconds(issued_at)),
                  pg::Param(UnixSeconds(expires_at))})
          .status());
  TESSERA_RETURN_IF_ERROR(
      conn->Exec("INSERT INTO registry.access_code_issuances (office, issued_at, expires_at, "
                 "issued_by_kind, issued_by, issued_by_serial, call_id) VALUES ($1, "
                 "to_timestamp($2), to_timestamp($3), $4, $5, NULLIF($6, ''), NULLIF($7, ''))",
                 {pg::Param(office), pg::Param(UnixSeconds(issued_at)),
                  pg::Param(UnixSeconds(expires_at)), pg::Param(actor.kind), pg::Param(actor.name),
                  pg::Param(actor.serial), pg::Param(actor.call_id)})
          .status());
  return tx.Commit();
}

absl::StatusOr<bool> PgCensusStore::AccessCodeIsValid(const AccessCode& code,
                                                      system_clock::time_point now) {
  const CensusOwner census = CensusOwnerOf(code.office);
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT a.code_sha256 FROM registry.census_access_codes a WHERE a.office = $1 "
                 "AND a.expires_at > to_timestamp($2) AND NOT EXISTS (SELECT 1 FROM "
                 "registry.censuses c WHERE c.kind = $3 AND c.owner = $4 AND c.state = "
                 "'SUBMITTED')",
                 {pg::Param(code.office), pg::Param(UnixSeconds(now)),
                  pg::Param(KindName(census.kind)), pg::Param(census.owner)}));
  if (r.rows() == 0) return false;
  const std::vector<uint8_t> stored = r.Bytes(0, 0);
  return stored.size() == code.digest.size() &&
         Botan::constant_time_compare(stored.data(), code.digest.data(), stored.size());
}

absl::StatusOr<SubmitResult> PgCensusStore::SubmitComune(const ComuneCensus& census,
                                                         system_clock::time_point now,
                                                         const Actor& actor,
                                                         std::vector<Violation>* disagreements) {
  // The comune's server (0099), then its workstations 0001.. (99 is never a workstation).
  std::vector<int> progressives = {99};
  for (int p = 1; static_cast<int>(progressives.size()) < census.workstations; ++p) {
    if (p != 99) progressives.push_back(p);
  }
  return Submit({.kind = CensusKind::kComune,
                 .owner = census.istat,
                 .document = ComuneCensusToJson(census),
                 .users = &census.users,
                 .card_prefix = census.istat,
                 .workstation_owner = census.istat,
                 .workstation_progressives = std::move(progressives),
                 .actor = &actor},
                now, disagreements);
}

absl::StatusOr<SubmitResult> PgCensusStore::SubmitPrefettura(
    const std::string& province_code, const PrefetturaCensus& census, system_clock::time_point now,
    const Actor& actor, std::vector<Violation>* disagreements) {
  std::vector<int> progressives;
  for (int p = 1; p <= census.workstations; ++p) progressives.push_back(p);
  // A prefettura's cards and workstations are numbered under its office code (province + 000).
  const std::string office = OfficeCode(CensusKind::kPrefettura, province_code);
  return Submit({.kind = CensusKind::kPrefettura,
                 .owner = province_code,
                 .document = PrefetturaCensusToJson(census),
                 .users = &census.users,
                 .card_prefix = office,
                 .workstation_owner = office,
                 .workstation_progressives = std::move(progressives),
                 .actor = &actor},
                now, disagreements);
}

std::string WorkstationOrder::CommonId() const {
  return absl::StrCat(owner, absl::StrFormat("%04d", progressive));
}

// A claim takes orders nobody holds, those whose lease ran out (claimed at or before
// $4 = now - lease), and the worker's own; its own come first.
absl::StatusOr<std::vector<CardOrder>> PgCensusStore::ClaimCardOrders(
    const std::string& worker, int limit, std::chrono::seconds lease,
    system_clock::time_point now) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(
          "WITH claimed AS (UPDATE registry.card_orders SET claimed_by = $1, claimed_at = "
          "to_timestamp($3) WHERE card_number IN (SELECT card_number FROM registry.card_orders "
          "WHERE state = 'LAVORAZIONE' AND ended_at IS NULL AND (claimed_by IS NULL OR claimed_by "
          "= $1 OR claimed_at <= to_timestamp($4)) ORDER BY claimed_by IS NOT DISTINCT FROM $1 "
          "DESC, created_at, card_number LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING card_number, "
          "codice_fiscale, census_id) SELECT c.card_number, c.codice_fiscale, "
          "coalesce(c.census_id, 0), p.surname, p.name, coalesce(k.owner, $5) FROM claimed c "
          "JOIN registry.persons p USING (codice_fiscale) LEFT JOIN registry.censuses k ON k.id "
          "= c.census_id ORDER BY c.card_number",
          {pg::Param(worker), pg::Param(limit), pg::Param(UnixSeconds(now)),
           pg::Param(UnixSeconds(now - lease)), pg::Param(kMinistryOrderer)}));
  std::vector<CardOrder> orders;
  for (int row = 0; row < r.rows(); ++row) {
    orders.push_back({std::string(r.Text(row, 0)), std::string(r.Text(row, 1)), r.Int(row, 2),
                      std::string(r.Text(row, 3)), std::string(r.Text(row, 4)),
                      std::string(r.Text(row, 5))});
  }
  return orders;
}

absl::StatusOr<std::vector<WorkstationOrder>> PgCensusStore::ClaimWorkstationOrders(
    const std::string& worker, int limit, std::chrono::seconds lease,
    system_clock::time_point now) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(
          "WITH claimed AS (UPDATE registry.workstation_orders SET claimed_by = $1, claimed_at = "
          "to_timestamp($3) WHERE (workstation_owner, progressive) IN (SELECT "
          "workstation_owner, progressive FROM registry.workstation_orders WHERE state = "
          "'LAVORAZIONE' AND (claimed_by IS NULL OR claimed_by = $1 OR claimed_at <= "
          "to_timestamp($4)) ORDER BY claimed_by IS NOT DISTINCT FROM $1 DESC, created_at, "
          "workstation_owner, progressive LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING "
          "workstation_owner, progressive, census_id) SELECT c.workstation_owner, "
          "c.progressive, c.census_id, k.owner FROM claimed c JOIN registry.censuses k ON k.id "
          "= c.census_id ORDER BY c.workstation_owner, c.progressive",
          {pg::Param(worker), pg::Param(limit), pg::Param(UnixSeconds(now)),
           pg::Param(UnixSeconds(now - lease))}));
  std::vector<WorkstationOrder> orders;
  for (int row = 0; row < r.rows(); ++row) {
    orders.push_back({std::string(r.Text(row, 0)), static_cast<int>(r.Int(row, 1)), r.Int(row, 2),
                      std::string(r.Text(row, 3))});
  }
  return orders;
}

}  // namespace tessera::registry
