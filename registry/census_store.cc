#include "registry/census_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tessera::registry {

CensusKind KindOf(const CensusDocument& census) {
  return std::holds_alternative<ComuneCensus>(census) ? CensusKind::kComune
                                                      : CensusKind::kPrefettura;
}

const std::vector<CensusUser>& Submission::users() const {
  return std::visit([](const auto& c) -> const std::vector<CensusUser>& { return c.users; },
                    census);
}

Submission SubmissionOf(const ComuneCensus& census) {
  std::vector<int> progressives = {99};
  for (int p = 1; static_cast<int>(progressives.size()) < census.workstations; ++p) {
    if (p != 99) progressives.push_back(p);
  }
  return {.census = census,
          .owner = census.istat,
          .card_prefix = census.istat,
          .workstation_owner = census.istat,
          .workstation_progressives = std::move(progressives)};
}

Submission SubmissionOf(const std::string& province_code, const PrefetturaCensus& census) {
  std::vector<int> progressives;
  for (int p = 1; p <= census.workstations; ++p) progressives.push_back(p);
  const std::string office = OfficeCode(CensusKind::kPrefettura, province_code);
  return {.census = census,
          .owner = province_code,
          .card_prefix = office,
          .workstation_owner = office,
          .workstation_progressives = std::move(progressives)};
}

std::string WorkstationOrder::CommonId() const {
  return absl::StrCat(owner, absl::StrFormat("%04d", progressive));
}

}  // namespace tessera::registry
