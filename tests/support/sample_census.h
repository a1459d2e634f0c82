// A complete, valid comune census as tests start from: Roma's contacts and its mayor, Mario
// Rossi, whose codice fiscale describes him (typed with spaces and in lower case, as people do).
#pragma once

#include <string>

#include "registry/census.h"
#include "registry/census_rules.h"

namespace tessera::testing {

inline registry::CensusUser SampleMayor() {
  return {.name = "Mario",
          .surname = "Rossi",
          .codice_fiscale = "rss mra 85t10 h501 o",
          .birth_date = std::chrono::year(1985) / 12 / 10,
          .birth_place = "ROMA",
          .birth_province = "RM",
          .sex = "M",
          .email = "Mario.Rossi@comune.roma.it",
          .profiles = {registry::kSindacoDelegato}};
}

inline registry::ComuneCensus SampleComuneCensus(std::string istat = "058091",
                                                 std::string name = "Roma") {
  return {.istat = std::move(istat),
          .name = std::move(name),
          .contacts = {.address = "Piazza del Campidoglio 1",
                       .cap = "00186",
                       .phone = "06 0606",
                       .fax = "06 67103590",
                       .email = "info@comune.roma.it",
                       .pec = "protocollo.gabinetto@pec.comune.roma.it"},
          .mayor_surname = "Rossi",
          .mayor_name = "Mario",
          .it_supplier = "Informatica Spa",
          .registry_software = "Anagrafe 2",
          .vat_number = "02438750586",
          .workstations = 3,
          .users = {SampleMayor()}};
}

}  // namespace tessera::testing
