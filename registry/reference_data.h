// Reference data the registry checks censuses against: every current comune (ISTAT code,
// name, province, Belfiore code) with its province and prefettura, and every cadastral code
// a codice fiscale may carry as birthplace (current and suppressed comuni, foreign states).
// The files are facts kept in deploy/reference (see its update.sh for their source).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::registry {

struct Comune {
  std::string istat;  // 6 digits; the first 3 are the province code
  std::string name;
  std::string province_code;
  std::string province_sigla;
  std::string province_name;
  std::string region;
  std::string belfiore;  // cadastral code, e.g. H501
};

struct CadastralCode {
  std::string code;   // A000-Z999; Z... for foreign states
  std::string sigla;  // province at the time, "EE" for a foreign state
  std::string name;   // upper case, as the list writes it
  bool current = false;
};

struct ReferenceData {
  std::vector<Comune> comuni;
  std::vector<CadastralCode> codes;
};

inline constexpr char kComuniFile[] = "comuni.csv";
inline constexpr char kCadastralCodesFile[] = "codici_catastali.csv";

// Parses the two files' text and checks every row (formats, the province code being the ISTAT
// code's first three digits, one sigla and name per province, no ISTAT or Belfiore code twice).
// INVALID_ARGUMENT naming file, line, column and rule.
absl::StatusOr<ReferenceData> ParseReferenceData(std::string_view comuni_csv,
                                                 std::string_view codes_csv);

// A place name reduced to its letters, for matching a declared birthplace against the list:
// ASCII punctuation and digits become separators, accents go ("Sant'Angelo" = "SANT ANGELO").
std::string FoldPlaceName(const std::string& name);

// The names a declared place may be listed under: as written, then for bilingual names the
// Italian part before "/" or "-" ("Aldino/Aldein" -> "Aldino"), which the cadastral list uses.
std::vector<std::string> PlaceNameCandidates(const std::string& name);

// The reference data in memory, for checking thousands of rows without a query each.
class ReferenceIndex {
 public:
  explicit ReferenceIndex(const ReferenceData& data);
  const Comune* FindComune(const std::string& istat) const;
  // A province (and so its prefettura) by sigla, e.g. "RI": a comune of it, whose province_*
  // fields name it. Null if no current comune has that sigla.
  const Comune* FindProvince(const std::string& sigla) const;
  // Every cadastral code the place has had (see PgReferenceStore::BirthplaceCodes).
  std::vector<std::string> BirthplaceCodes(const std::string& name, const std::string& sigla) const;

 private:
  std::map<std::string, Comune> comuni_;
  std::map<std::string, std::string> provinces_;  // sigla -> ISTAT code of its first comune
  std::map<std::string, std::vector<std::string>> codes_;  // folded name + '|' + sigla
};

// Reads kComuniFile and kCadastralCodesFile from `dir` and parses them.
absl::StatusOr<ReferenceData> ReadReferenceData(const std::filesystem::path& dir);

}  // namespace tessera::registry
