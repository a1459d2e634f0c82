#include "registry/reference_data.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>

#include "absl/strings/str_cat.h"
#include "identity/codice_fiscale.h"
#include "platform/csv.h"
#include "platform/files.h"
#include "platform/status_macros.h"

namespace tessera::registry {
namespace {

// "comuni.csv line 12, column belfiore: ..."
absl::Status RowError(const char* file, int line, const char* column, const std::string& rule) {
  return absl::InvalidArgumentError(
      absl::StrCat(file, " line ", line, ", column ", column, ": ", rule));
}

absl::StatusOr<csv::Table> ParseFile(const char* file, std::string_view text,
                                     const std::vector<std::string>& header) {
  absl::StatusOr<csv::Table> table = csv::Parse(text);
  if (!table.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", table.status().message()));
  }
  if (absl::Status st = csv::CheckHeader(*table, header); !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", st.message()));
  }
  return table;
}

}  // namespace

absl::StatusOr<ReferenceData> ParseReferenceData(std::string_view comuni_csv,
                                                 std::string_view codes_csv) {
  static const std::regex kIstat("[0-9]{6}");
  static const std::regex kSigla("[A-Z]{2}");
  static const std::regex kCadastral("[A-Z][0-9]{3}");
  ReferenceData data;

  TESSERA_ASSIGN_OR_RETURN(csv::Table comuni,
                           ParseFile(kComuniFile, comuni_csv,
                                     {"istat", "name", "province_code", "province_sigla",
                                      "province_name", "region", "belfiore"}));
  std::set<std::string> istat_seen, belfiore_seen;
  // Province code -> its sigla and name, which every comune of the province must repeat.
  std::map<std::string, std::pair<std::string, std::string>> provinces;
  std::map<std::string, std::string> code_of_sigla;
  for (const csv::Row& row : comuni.rows) {
    Comune c{row.fields[0], row.fields[1], row.fields[2], row.fields[3],
             row.fields[4], row.fields[5], row.fields[6]};
    const int line = row.line;
    if (!std::regex_match(c.istat, kIstat)) return RowError(kComuniFile, line, "istat", "6 digits");
    if (!istat_seen.insert(c.istat).second) {
      return RowError(kComuniFile, line, "istat", c.istat + " appears twice");
    }
    if (c.name.empty()) return RowError(kComuniFile, line, "name", "empty");
    if (c.province_code != c.istat.substr(0, 3)) {
      return RowError(kComuniFile, line, "province_code",
                      "must be the ISTAT code's first 3 digits");
    }
    if (!std::regex_match(c.province_sigla, kSigla)) {
      return RowError(kComuniFile, line, "province_sigla", "2 capital letters");
    }
    if (c.province_name.empty()) return RowError(kComuniFile, line, "province_name", "empty");
    if (c.region.empty()) return RowError(kComuniFile, line, "region", "empty");
    if (!std::regex_match(c.belfiore, kCadastral)) {
      return RowError(kComuniFile, line, "belfiore", "a letter and 3 digits");
    }
    if (!belfiore_seen.insert(c.belfiore).second) {
      return RowError(kComuniFile, line, "belfiore", c.belfiore + " appears twice");
    }
    auto [province, added] =
        provinces.try_emplace(c.province_code, c.province_sigla, c.province_name);
    if (!added && province->second != std::make_pair(c.province_sigla, c.province_name)) {
      return RowError(kComuniFile, line, "province_sigla",
                      "province " + c.province_code + " has another sigla or name above");
    }
    auto [sigla, sigla_added] = code_of_sigla.try_emplace(c.province_sigla, c.province_code);
    if (!sigla_added && sigla->second != c.province_code) {
      return RowError(kComuniFile, line, "province_sigla",
                      c.province_sigla + " belongs to province " + sigla->second + " above");
    }
    data.comuni.push_back(std::move(c));
  }
  if (data.comuni.empty()) return absl::InvalidArgumentError("comuni.csv: no comuni");

  TESSERA_ASSIGN_OR_RETURN(csv::Table codes, ParseFile(kCadastralCodesFile, codes_csv,
                                                       {"code", "sigla", "name", "current"}));
  for (const csv::Row& row : codes.rows) {
    CadastralCode c{row.fields[0], row.fields[1], row.fields[2], row.fields[3] == "1"};
    if (!std::regex_match(c.code, kCadastral)) {
      return RowError(kCadastralCodesFile, row.line, "code", "a letter and 3 digits");
    }
    if (!std::regex_match(c.sigla, kSigla)) {
      return RowError(kCadastralCodesFile, row.line, "sigla", "2 capital letters");
    }
    if (c.name.empty()) return RowError(kCadastralCodesFile, row.line, "name", "empty");
    if (row.fields[3] != "0" && row.fields[3] != "1") {
      return RowError(kCadastralCodesFile, row.line, "current", "0 or 1");
    }
    data.codes.push_back(std::move(c));
  }
  return data;
}

std::string FoldPlaceName(const std::string& name) {
  std::string cleaned;
  for (char c : name) {
    const bool keep = (c & 0x80) != 0 || std::isalpha(static_cast<unsigned char>(c));
    cleaned.push_back(keep ? c : ' ');
  }
  absl::StatusOr<std::string> folded = identity::FoldName(cleaned);
  return folded.ok() ? *folded : cleaned;
}

std::vector<std::string> PlaceNameCandidates(const std::string& name) {
  std::vector<std::string> candidates = {name};
  for (char separator : {'/', '-'}) {
    const std::string part = name.substr(0, name.find(separator));
    if (!part.empty() &&
        std::find(candidates.begin(), candidates.end(), part) == candidates.end()) {
      candidates.push_back(part);
    }
  }
  return candidates;
}

ReferenceIndex::ReferenceIndex(const ReferenceData& data) {
  for (const Comune& c : data.comuni) comuni_.emplace(c.istat, c);
  for (const auto& [istat, c] : comuni_) provinces_.emplace(c.province_sigla, istat);
  for (const CadastralCode& k : data.codes) {
    std::vector<std::string>& codes = codes_[FoldPlaceName(k.name) + "|" + k.sigla];
    if (std::find(codes.begin(), codes.end(), k.code) == codes.end()) codes.push_back(k.code);
  }
  for (auto& [place, codes] : codes_) std::sort(codes.begin(), codes.end());
}

const Comune* ReferenceIndex::FindComune(const std::string& istat) const {
  auto it = comuni_.find(istat);
  return it == comuni_.end() ? nullptr : &it->second;
}

const Comune* ReferenceIndex::FindProvince(const std::string& sigla) const {
  auto it = provinces_.find(sigla);
  return it == provinces_.end() ? nullptr : FindComune(it->second);
}

std::vector<std::string> ReferenceIndex::BirthplaceCodes(const std::string& name,
                                                         const std::string& sigla) const {
  for (const std::string& candidate : PlaceNameCandidates(name)) {
    auto it = codes_.find(FoldPlaceName(candidate) + "|" + sigla);
    if (it != codes_.end()) return it->second;
  }
  return {};
}

absl::StatusOr<ReferenceData> ReadReferenceData(const std::filesystem::path& dir) {
  TESSERA_ASSIGN_OR_RETURN(std::string comuni, ReadFile((dir / kComuniFile).string()));
  TESSERA_ASSIGN_OR_RETURN(std::string codes, ReadFile((dir / kCadastralCodesFile).string()));
  return ParseReferenceData(comuni, codes);
}

}  // namespace tessera::registry
