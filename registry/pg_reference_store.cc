#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "platform/clock.h"
#include "platform/status_macros.h"
#include "registry/internal/request_journal.h"
#include "registry/pg_stores.h"

std::vector<tessera::pg::Migration> RegistryMigrations();  // generated from registry/migrations/

namespace tessera::registry {
namespace {

// Counts the rows an upsert's RETURNING (xmax = 0) reported as inserted and as updated.
void CountUpserts(const pg::Result& r, int& added, int& changed) {
  for (int row = 0; row < r.rows(); ++row) (r.Bool(row, 0) ? added : changed)++;
}

// A load's report as registry.requests keeps it, to answer a retry.
std::string ReportToJson(const ReferenceLoadReport& r) {
  return nlohmann::json{{"provinces", {r.provinces_added, r.provinces_changed, r.provinces_ceased}},
                        {"comuni", {r.comuni_added, r.comuni_changed, r.comuni_ceased}},
                        {"cadastral_codes", r.cadastral_codes}}
      .dump();
}

absl::StatusOr<ReferenceLoadReport> ReportFromJson(const std::string& text) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    ReferenceLoadReport r;
    r.provinces_added = j.at("provinces").at(0);
    r.provinces_changed = j.at("provinces").at(1);
    r.provinces_ceased = j.at("provinces").at(2);
    r.comuni_added = j.at("comuni").at(0);
    r.comuni_changed = j.at("comuni").at(1);
    r.comuni_ceased = j.at("comuni").at(2);
    r.cadastral_codes = j.at("cadastral_codes");
    return r;
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat("recorded load report unreadable: ", e.what()));
  }
}

}  // namespace

std::vector<pg::Migration> PgMigrations() { return RegistryMigrations(); }

absl::StatusOr<ReferenceLoadReport> PgReferenceStore::Load(
    const ReferenceData& data, std::chrono::system_clock::time_point now, const Request& request) {
  std::map<std::string, const Comune*> province_of;  // province code -> a comune of it
  for (const Comune& c : data.comuni) province_of.try_emplace(c.province_code, &c);
  std::vector<std::string> p_code, p_sigla, p_name, p_region;
  for (const auto& [code, c] : province_of) {
    p_code.push_back(code);
    p_sigla.push_back(c->province_sigla);
    p_name.push_back(c->province_name);
    p_region.push_back(c->region);
  }
  std::vector<std::string> c_istat, c_name, c_province, c_belfiore;
  for (const Comune& c : data.comuni) {
    c_istat.push_back(c.istat);
    c_name.push_back(c.name);
    c_province.push_back(c.province_code);
    c_belfiore.push_back(c.belfiore);
  }
  std::vector<std::string> k_code, k_sigla, k_name, k_folded, k_current;
  for (const CadastralCode& k : data.codes) {
    k_code.push_back(k.code);
    k_sigla.push_back(k.sigla);
    k_name.push_back(k.name);
    k_folded.push_back(FoldPlaceName(k.name));
    k_current.push_back(k.current ? "true" : "false");
  }
  const pg::Param when(UnixSeconds(now));

  ReferenceLoadReport report;
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(pg::Transaction tx, pg::Transaction::Begin(*conn));
  TESSERA_ASSIGN_OR_RETURN(std::optional<std::string> repeated,
                           internal::BeginRequest(*conn, request, "LoadReference", when));
  if (repeated.has_value()) return ReportFromJson(*repeated);
  // Cease first what left the lists, so a sigla or Belfiore code passed on to a new entry
  // does not collide with the old one's.
  TESSERA_ASSIGN_OR_RETURN(pg::Result ceased_comuni,
                           conn->Exec("UPDATE registry.comuni SET ceased_at = to_timestamp($2) "
                                      "WHERE ceased_at IS NULL AND NOT (istat = ANY ($1::text[]))",
                                      {pg::Param::TextArray(c_istat), when}));
  report.comuni_ceased = static_cast<int>(ceased_comuni.AffectedRows());
  TESSERA_ASSIGN_OR_RETURN(pg::Result ceased_provinces,
                           conn->Exec("UPDATE registry.province SET ceased_at = to_timestamp($2) "
                                      "WHERE ceased_at IS NULL AND NOT (code = ANY ($1::text[]))",
                                      {pg::Param::TextArray(p_code), when}));
  report.provinces_ceased = static_cast<int>(ceased_provinces.AffectedRows());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result provinces,
      conn->Exec("INSERT INTO registry.province AS p (code, sigla, name, region) "
                 "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
                 "ON CONFLICT (code) DO UPDATE SET sigla = EXCLUDED.sigla, name = EXCLUDED.name, "
                 "region = EXCLUDED.region, ceased_at = NULL "
                 "WHERE (p.sigla, p.name, p.region, p.ceased_at) IS DISTINCT FROM "
                 "(EXCLUDED.sigla, EXCLUDED.name, EXCLUDED.region, NULL) RETURNING (xmax = 0)",
                 {pg::Param::TextArray(p_code), pg::Param::TextArray(p_sigla),
                  pg::Param::TextArray(p_name), pg::Param::TextArray(p_region)}));
  CountUpserts(provinces, report.provinces_added, report.provinces_changed);
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result comuni,
      conn->Exec(
          "INSERT INTO registry.comuni AS c (istat, name, province_code, belfiore) "
          "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
          "ON CONFLICT (istat) DO UPDATE SET name = EXCLUDED.name, "
          "province_code = EXCLUDED.province_code, belfiore = EXCLUDED.belfiore, ceased_at = NULL "
          "WHERE (c.name, c.province_code, c.belfiore, c.ceased_at) IS DISTINCT FROM "
          "(EXCLUDED.name, EXCLUDED.province_code, EXCLUDED.belfiore, NULL) RETURNING (xmax = 0)",
          {pg::Param::TextArray(c_istat), pg::Param::TextArray(c_name),
           pg::Param::TextArray(c_province), pg::Param::TextArray(c_belfiore)}));
  CountUpserts(comuni, report.comuni_added, report.comuni_changed);
  TESSERA_RETURN_IF_ERROR(conn->Exec("DELETE FROM registry.codici_catastali").status());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result codes,
      conn->Exec("INSERT INTO registry.codici_catastali (code, sigla, name, folded_name, current) "
                 "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
                 "$5::boolean[]) ON CONFLICT DO NOTHING",
                 {pg::Param::TextArray(k_code), pg::Param::TextArray(k_sigla),
                  pg::Param::TextArray(k_name), pg::Param::TextArray(k_folded),
                  pg::Param::TextArray(k_current)}));
  report.cadastral_codes = static_cast<int>(codes.AffectedRows());
  TESSERA_RETURN_IF_ERROR(internal::FinishRequest(*conn, request, ReportToJson(report)));
  TESSERA_RETURN_IF_ERROR(tx.Commit());
  return report;
}

absl::StatusOr<ReferenceData> PgReferenceStore::ReadAll() {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result comuni,
      conn->Exec("SELECT c.istat, c.name, c.province_code, p.sigla, p.name, p.region, c.belfiore "
                 "FROM registry.comuni c JOIN registry.province p ON p.code = c.province_code "
                 "WHERE c.ceased_at IS NULL ORDER BY c.istat"));
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result codes,
      conn->Exec("SELECT code, sigla, name, current FROM registry.codici_catastali ORDER BY code"));
  ReferenceData data;
  for (int row = 0; row < comuni.rows(); ++row) {
    Comune c;
    for (auto [column, field] : {std::pair{0, &c.istat},
                                 {1, &c.name},
                                 {2, &c.province_code},
                                 {3, &c.province_sigla},
                                 {4, &c.province_name},
                                 {5, &c.region},
                                 {6, &c.belfiore}}) {
      *field = comuni.Text(row, column);
    }
    data.comuni.push_back(std::move(c));
  }
  for (int row = 0; row < codes.rows(); ++row) {
    data.codes.push_back({std::string(codes.Text(row, 0)), std::string(codes.Text(row, 1)),
                          std::string(codes.Text(row, 2)), codes.Bool(row, 3)});
  }
  return data;
}

absl::StatusOr<std::optional<Comune>> PgReferenceStore::FindComune(const std::string& istat) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT c.istat, c.name, c.province_code, p.sigla, p.name, p.region, c.belfiore "
                 "FROM registry.comuni c JOIN registry.province p ON p.code = c.province_code "
                 "WHERE c.istat = $1 AND c.ceased_at IS NULL",
                 {pg::Param(istat)}));
  if (r.rows() == 0) return std::optional<Comune>();
  return std::optional<Comune>(Comune{std::string(r.Text(0, 0)), std::string(r.Text(0, 1)),
                                      std::string(r.Text(0, 2)), std::string(r.Text(0, 3)),
                                      std::string(r.Text(0, 4)), std::string(r.Text(0, 5)),
                                      std::string(r.Text(0, 6))});
}

absl::StatusOr<std::vector<std::string>> PgReferenceStore::BirthplaceCodes(
    const std::string& name, const std::string& sigla) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  for (const std::string& candidate : PlaceNameCandidates(name)) {
    TESSERA_ASSIGN_OR_RETURN(pg::Result r,
                             conn->Exec("SELECT DISTINCT code FROM registry.codici_catastali "
                                        "WHERE folded_name = $1 AND sigla = $2 ORDER BY code",
                                        {pg::Param(FoldPlaceName(candidate)), pg::Param(sigla)}));
    if (r.rows() == 0) continue;
    std::vector<std::string> codes;
    for (int row = 0; row < r.rows(); ++row) codes.emplace_back(r.Text(row, 0));
    return codes;
  }
  return std::vector<std::string>{};
}

}  // namespace tessera::registry
