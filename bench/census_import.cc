// bench/census_import: a synthetic national census (every comune of deploy/reference, ten
// users each, valid codici fiscali of people born all over Italy) imported the way
// ImportCensus does it: CSV parsed, every rule checked against the reference data, every
// census saved as a draft in one transaction. Printed next to the physical limit measured in
// the same run: PostgreSQL COPY of the same file into a table of the same columns.
//
//   census_import [--users-per-comune N] [--workstations-per-comune W] [--card-holders K]
//   census_import --province SIGLA --out FILE   writes that province's file and stops (the
//                                               sample in deploy/sample/ is made so; bench/
//                                               perso_e2e makes its census so)
#include "registry/census_import.h"

#include <libpq-fe.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <string>

#include "identity/codice_fiscale.h"
#include "platform/files.h"
#include "platform/migrations.h"
#include "platform/pg_pool.h"
#include "registry/pg_stores.h"
#include "tests/support/test_pg.h"

namespace tessera::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::year;
namespace registry = tessera::registry;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The Ministry's call, as the registry service would record it (registry.requests).
registry::Request BenchRequest(std::string request_id) {
  return {.actor = {.kind = "service", .name = "tessera-cli"}, .request_id = std::move(request_id)};
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "census_import: %s\n", what.c_str());
  return 1;
}

// nome.cognome.N@comune.it, lower case, letters only: a person's own mailbox.
std::string Mailbox(const std::string& name, const std::string& surname, size_t n) {
  std::string box;
  for (char c : name + "." + surname) {
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '.') {
      box.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return box + "." + std::to_string(n) + "@comune.it";
}

// The national file: one row per user, the comune's data repeated.
std::string MakeNationalFile(const registry::ReferenceData& reference, int users_per_comune,
                             int workstations_per_comune, int card_holders,
                             const std::string& province, size_t& rows) {
  static const char* kMen[] = {"Mario",   "Luca",   "Marco",  "Paolo",
                               "Giorgio", "Andrea", "Nicola", "Stefano"};
  static const char* kWomen[] = {"Anna",   "Giulia",    "Sara",  "Elena",
                                 "Chiara", "Francesca", "Laura", "Simona"};
  static const char* kSurnames[] = {
      "Rossi",  "Russo", "Ferrari", "Esposito", "Bianchi", "Romano",  "Colombo", "Ricci",
      "Marino", "Greco", "Bruno",   "Gallo",    "Conti",   "De Luca", "Mancini", "Costa"};
  std::mt19937 random(20261123);
  std::set<std::string> used;
  std::string file;
  for (const std::string& column : registry::CensusImportColumns()) {
    file += (file.empty() ? "" : ";") + column;
  }
  file += "\n";
  rows = 0;
  for (const registry::Comune& comune : reference.comuni) {
    if (!province.empty() && comune.province_sigla != province) continue;
    const std::string general = comune.istat + ";" + comune.name +
                                ";Piazza Municipio 1;00100;06 1234567;06 7654321;"
                                "info@comune.it;protocollo@pec.comune.it;Rossi;Mario;"
                                "Informatica Spa;Anagrafe;02438750586;" +
                                std::to_string(workstations_per_comune) + ";";
    for (int u = 0; u < users_per_comune; ++u) {
      std::string cf, name, surname, sex;
      std::chrono::year_month_day birth;
      const registry::Comune* born = nullptr;
      do {  // a fresh person, until the codice fiscale is new
        sex = random() % 2 == 0 ? "F" : "M";
        name = sex == "F" ? kWomen[random() % std::size(kWomen)] : kMen[random() % std::size(kMen)];
        surname = kSurnames[random() % std::size(kSurnames)];
        birth = year(1950 + random() % 50) / (1 + random() % 12) / (1 + random() % 28);
        born = &reference.comuni[random() % reference.comuni.size()];
        cf =
            identity::SurnameCode(*identity::FoldName(surname)) +
            identity::NameCode(*identity::FoldName(name)) +
            identity::BirthCode(birth, sex == "F" ? identity::Sex::kFemale : identity::Sex::kMale) +
            born->belfiore;
        cf += identity::CodiceFiscaleCheckCharacter(cf);
      } while (!used.insert(cf).second);
      char date[16];
      std::snprintf(date, sizeof date, "%02u/%02u/%04d", static_cast<unsigned>(birth.day()),
                    static_cast<unsigned>(birth.month()), static_cast<int>(birth.year()));
      // The first users of each comune get cards: its mayor, then Accesso Web operators.
      const std::string profiles = u == 0             ? "Sindaco/Delegato"
                                   : u < card_holders ? "Accesso Web|Operatore Consultazione"
                                                      : "Operatore Consultazione";
      std::string place = born->name;
      if (place.find(';') != std::string::npos || place.find('"') != std::string::npos) {
        place = "\"" + place + "\"";
      }
      file += general + name + ";" + surname + ";" + cf + ";" + date + ";" + place + ";" +
              born->province_sigla + ";" + sex + ";" + Mailbox(name, surname, rows) + ";" +
              profiles + "\n";
      ++rows;
    }
  }
  return file;
}

// COPY of the same text into a table with the same 23 text columns: the physical limit.
absl::StatusOr<double> CopySeconds(pg::Connection& conn, const std::string& file) {
  std::string columns;
  for (const std::string& column : registry::CensusImportColumns()) {
    columns += (columns.empty() ? "" : ", ") + column + " text";
  }
  if (absl::Status st = conn.ExecScript("CREATE TABLE copy_limit (" + columns + ")"); !st.ok()) {
    return st;
  }
  const auto start = Clock::now();
  PGresult* begin =
      PQexec(conn.raw(), "COPY copy_limit FROM STDIN (FORMAT csv, DELIMITER ';', HEADER true)");
  const bool copying = PQresultStatus(begin) == PGRES_COPY_IN;
  PQclear(begin);
  if (!copying) return absl::InternalError(PQerrorMessage(conn.raw()));
  constexpr size_t kChunk = 1 << 20;
  for (size_t at = 0; at < file.size(); at += kChunk) {
    const size_t n = std::min(kChunk, file.size() - at);
    if (PQputCopyData(conn.raw(), file.data() + at, static_cast<int>(n)) != 1) {
      return absl::InternalError(PQerrorMessage(conn.raw()));
    }
  }
  if (PQputCopyEnd(conn.raw(), nullptr) != 1) return absl::InternalError("COPY end failed");
  PGresult* done = PQgetResult(conn.raw());
  const bool ok = PQresultStatus(done) == PGRES_COMMAND_OK;
  PQclear(done);
  while (PGresult* extra = PQgetResult(conn.raw())) PQclear(extra);
  if (!ok) return absl::InternalError(PQerrorMessage(conn.raw()));
  return Seconds(Clock::now() - start);
}

}  // namespace
}  // namespace tessera::bench

int main(int argc, char** argv) {
  using namespace tessera::bench;
  int users_per_comune = 10;
  int workstations_per_comune = 3;
  int card_holders = 4;  // per comune
  std::string province, out;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--users-per-comune" && i + 1 < argc) {
      users_per_comune = std::stoi(argv[++i]);
    } else if (arg == "--card-holders" && i + 1 < argc) {
      card_holders = std::stoi(argv[++i]);
    } else if (arg == "--workstations-per-comune" && i + 1 < argc) {
      workstations_per_comune = std::stoi(argv[++i]);
    } else if (arg == "--province" && i + 1 < argc) {
      province = argv[++i];
    } else if (arg == "--out" && i + 1 < argc) {
      out = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: census_import [--users-per-comune N] [--workstations-per-comune W] "
                   "[--card-holders K] "
                   "[--province SIGLA --out FILE]\n");
      return 2;
    }
  }
  auto reference =
      registry::ReadReferenceData(std::filesystem::path(TESSERA_SOURCE_DIR) / "deploy/reference");
  if (!reference.ok()) return Fail(std::string(reference.status().message()));
  auto email_rules = tessera::mail::PersonalEmailRules::ReadFile(
      std::string(TESSERA_SOURCE_DIR) + "/deploy/reference/personal_email.txt");
  if (!email_rules.ok()) return Fail(std::string(email_rules.status().message()));
  size_t rows = 0;
  const std::string file = MakeNationalFile(*reference, users_per_comune, workstations_per_comune,
                                            card_holders, province, rows);
  if (!out.empty()) {
    if (!tessera::WriteFile(out, file, 0644).ok()) return Fail("cannot write " + out);
    std::printf("%s: %zu users\n", out.c_str(), rows);
    return 0;
  }
  std::printf("national census: %zu comuni, %zu users, %.1f MB\n", reference->comuni.size(), rows,
              file.size() / 1e6);

  auto& pg = tessera::testing::TestPg::Get();
  tessera::pg::ConnectionPool pool(pg.ConnInfo(pg.CreateDatabase()), 2);
  {
    auto conn = pool.Acquire();
    if (!conn.ok()) return Fail("no database");
    auto migrated =
        tessera::pg::ApplyMigrations(**conn, registry::kPgSchema, registry::PgMigrations());
    if (!migrated.ok()) return Fail(std::string(migrated.status().message()));
  }
  registry::PgReferenceStore reference_store(pool);
  const auto now = std::chrono::system_clock::now();
  if (!reference_store.Load(*reference, now, BenchRequest("load")).ok())
    return Fail("reference load failed");
  registry::PgCensusStore census_store(pool);
  const auto today = std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(now));
  std::map<std::string, registry::ComuneDeclaration> declarations;
  for (const registry::Comune& c : reference->comuni) {
    declarations[c.istat] = {5, 20, std::chrono::sys_days(today) + std::chrono::days(30)};
  }

  // What ImportCensus does, phase by phase.
  const auto start = Clock::now();
  auto index_data = reference_store.ReadAll();
  if (!index_data.ok()) return Fail(std::string(index_data.status().message()));
  const registry::ReferenceIndex index(*index_data);
  const auto indexed = Clock::now();
  std::vector<registry::Violation> errors;
  auto parsed = registry::ParseCensusImport(file, errors);
  if (!parsed.ok()) return Fail(std::string(parsed.status().message()));
  const auto read = Clock::now();
  registry::ValidateImport(*parsed, index, declarations, *email_rules, {}, today, errors);
  const auto validated = Clock::now();
  if (!errors.empty()) return Fail(registry::FormatInFile(errors.front()));
  auto saved = census_store.SaveDrafts(parsed->censuses, now, BenchRequest("import"));
  if (!saved.ok()) return Fail(std::string(saved.message()));
  const auto stored = Clock::now();

  auto conn = pool.Acquire();
  if (!conn.ok()) return Fail("no connection");
  auto copy = CopySeconds(**conn, file);
  if (!copy.ok()) return Fail(std::string(copy.status().message()));

  const double total = Seconds(stored - start);
  std::printf("  reference index from PostgreSQL  %7.2f s\n", Seconds(indexed - start));
  std::printf("  parse CSV                        %7.2f s\n", Seconds(read - indexed));
  std::printf("  validate every rule              %7.2f s\n", Seconds(validated - read));
  std::printf("  store drafts (one transaction)   %7.2f s\n", Seconds(stored - validated));
  std::printf(
      "import: %.2f s, %.0f rows/s | COPY of the same file: %.2f s, %.0f rows/s | "
      "import / COPY = %.2f (COPY %.1fx faster)\n",
      total, rows / total, *copy, rows / *copy, (rows / total) / (rows / *copy), total / *copy);
  return 0;
}
