#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "platform/clock.h"
#include "platform/status_macros.h"
#include "registry/census_json.h"
#include "registry/internal/person_rows.h"
#include "registry/internal/request_journal.h"
#include "registry/pg_stores.h"

namespace tessera::registry {
namespace {

using std::chrono::system_clock;

constexpr char kCensusColumns[] =
    "id, kind, owner, state, document::text, revision, extract(epoch from saved_at)::bigint, "
    "extract(epoch from submitted_at)::bigint";

// A stored census that no longer reads as one (edited by hand, or by a bug) is DATA_LOSS naming
// it: nothing can mend it from here.
absl::StatusOr<CensusRecord> ReadCensus(const pg::Result& r, int row) {
  CensusRecord c;
  c.id = r.Int(row, 0);
  c.owner = r.Text(row, 2);
  c.submitted = r.Text(row, 3) == "SUBMITTED";
  const std::string document(r.Text(row, 4));
  absl::StatusOr<CensusDocument> census =
      r.Text(row, 1) == "comune"
          ? absl::StatusOr<CensusDocument>(ComuneCensusFromJson(document))
          : absl::StatusOr<CensusDocument>(PrefetturaCensusFromJson(document));
  if (!census.ok()) {
    return absl::DataLossError(absl::StrCat("stored census of ", std::string(r.Text(row, 1)), " ",
                                            c.owner,
                                            " does not read: ", census.status().message()));
  }
  c.census = *std::move(census);
  c.revision = static_cast<int>(r.Int(row, 5));
  c.saved_at = FromUnixSeconds(r.Int(row, 6));
  if (!r.IsNull(row, 7)) c.submitted_at = FromUnixSeconds(r.Int(row, 7));
  return c;
}

// The draft a retry of `request` answers with: the census it sent, as its first call saved it
// (`outcome`: id, revision and time, FinishRequest in SaveDraft).
absl::StatusOr<CensusRecord> DraftAsSaved(const std::string& owner, const CensusDocument& census,
                                          const std::string& outcome) {
  try {
    const nlohmann::json j = nlohmann::json::parse(outcome);
    CensusRecord record;
    record.id = j.at("id");
    record.owner = owner;
    record.census = census;
    record.revision = j.at("revision");
    record.saved_at = FromUnixSeconds(j.at("saved_at").get<int64_t>());
    return record;
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat("recorded draft save unreadable: ", e.what()));
  }
}

// The census as stored (census_json.h); INVALID_ARGUMENT above kMaxDraftBytes.
absl::StatusOr<std::string> StoredForm(const CensusDocument& census) {
  std::string json = std::visit(
      [](const auto& c) {
        if constexpr (std::is_same_v<std::decay_t<decltype(c)>, ComuneCensus>) {
          return ComuneCensusToJson(c);
        } else {
          return PrefetturaCensusToJson(c);
        }
      },
      census);
  if (json.size() > kMaxDraftBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "census: ", json.size(), " bytes; a census draft is at most ", kMaxDraftBytes, " bytes"));
  }
  return json;
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

absl::StatusOr<CensusRecord> PgCensusStore::SaveDraft(const std::string& owner,
                                                      const CensusDocument& census,
                                                      system_clock::time_point now,
                                                      const Request& request) {
  TESSERA_ASSIGN_OR_RETURN(const std::string document, StoredForm(census));
  const CensusKind kind = KindOf(census);
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  TESSERA_ASSIGN_OR_RETURN(
      std::optional<std::string> repeated,
      internal::BeginRequest(*conn, request, "SaveDraft", pg::Param(UnixSeconds(now))));
  if (repeated.has_value()) return DraftAsSaved(owner, census, *repeated);
  // Insert or overwrite the draft in one statement; a submitted census is left untouched.
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(absl::StrCat("INSERT INTO registry.censuses AS c (kind, owner, state, document, "
                              "saved_at) VALUES ($1, $2, 'DRAFT', $3::jsonb, to_timestamp($4)) "
                              "ON CONFLICT (kind, owner) DO UPDATE SET document = "
                              "EXCLUDED.document, saved_at = EXCLUDED.saved_at, revision = "
                              "c.revision + 1 WHERE c.state = 'DRAFT' RETURNING ",
                              kCensusColumns),
                 {pg::Param(CensusKindName(kind)), pg::Param(owner), pg::Param(document),
                  pg::Param(UnixSeconds(now))}));
  if (r.rows() == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "census of ", owner, " is already submitted; changes go through the security console"));
  }
  TESSERA_ASSIGN_OR_RETURN(CensusRecord saved, ReadCensus(r, 0));
  TESSERA_RETURN_IF_ERROR(internal::FinishRequest(
      *conn, request,
      nlohmann::json{
          {"id", saved.id}, {"revision", saved.revision}, {"saved_at", UnixSeconds(saved.saved_at)}}
          .dump()));
  TESSERA_RETURN_IF_ERROR(tx.Commit());
  return saved;
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
                 {pg::Param(CensusKindName(f.kind)),
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
                                       system_clock::time_point now, const Request& request) {
  std::vector<std::string> owners, documents;
  for (const ComuneCensus& c : censuses) {
    owners.push_back(c.istat);
    TESSERA_ASSIGN_OR_RETURN(std::string document, StoredForm(c));
    documents.push_back(std::move(document));
  }
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  TESSERA_ASSIGN_OR_RETURN(
      std::optional<std::string> repeated,
      internal::BeginRequest(*conn, request, "ImportCensus", pg::Param(UnixSeconds(now))));
  if (repeated.has_value()) return absl::OkStatus();
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
  TESSERA_RETURN_IF_ERROR(internal::FinishRequest(*conn, request, "{}"));
  return tx.Commit();
}

absl::StatusOr<CensusRecord> PgCensusStore::Get(CensusKind kind, const std::string& owner) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec(absl::StrCat("SELECT ", kCensusColumns,
                              " FROM registry.censuses WHERE kind = $1 AND owner = $2"),
                 {pg::Param(CensusKindName(kind)), pg::Param(owner)}));
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("no census of ", CensusKindName(kind), " ", owner));
  }
  return ReadCensus(r, 0);
}

absl::StatusOr<SubmitResult> PgCensusStore::Submit(const Submission& s,
                                                   system_clock::time_point now,
                                                   const Request& request,
                                                   std::vector<Violation>* disagreements_out) {
  std::vector<Violation> disagreements;
  const Actor& actor = request.actor;
  TESSERA_ASSIGN_OR_RETURN(const std::string document, StoredForm(s.census));
  const pg::Param when(UnixSeconds(now));
  const pg::Param kind(CensusKindName(s.kind()));
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  // A retry of this request finds the census submitted with this content, below, and answers
  // as the first call did.
  TESSERA_RETURN_IF_ERROR(internal::BeginRequest(*conn, request, "SubmitCensus", when).status());

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
  TESSERA_ASSIGN_OR_RETURN(CensusRecord record, ReadCensus(locked, 0));
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
      conn->Exec(absl::StrCat("UPDATE registry.censuses SET state = 'SUBMITTED', document = "
                              "$2::jsonb, saved_at = to_timestamp($3), submitted_at = "
                              "to_timestamp($3), revision = revision + 1, submitted_by_kind = "
                              "$4, submitted_by = $5, submitted_by_serial = NULLIF($6, ''), "
                              "submitted_call_id = NULLIF($7, '') WHERE id = $1 RETURNING ",
                              kCensusColumns),
                 {pg::Param(record.id), pg::Param(document), when, pg::Param(actor.kind),
                  pg::Param(actor.name), pg::Param(actor.serial), pg::Param(actor.call_id)}));
  SubmitResult result;
  TESSERA_ASSIGN_OR_RETURN(result.census, ReadCensus(submitted, 0));
  const int64_t census_id = result.census.id;

  for (size_t i = 0; i < s.users().size(); ++i) {
    const CensusUser& u = s.users()[i];
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
    if (!GetsCard(u, s.kind())) continue;
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
  TESSERA_RETURN_IF_ERROR(internal::FinishRequest(*conn, request, "{}"));
  TESSERA_RETURN_IF_ERROR(tx.Commit());
  return result;
}

}  // namespace tessera::registry
