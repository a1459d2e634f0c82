// The operator profile as deploy/ca/profiles.toml has it, built in code for unit tests that
// should not depend on reading the file.
#pragma once

#include "ca/profile.h"

namespace tessera::ca {

inline Profile TestOperatorProfile() {
  Profile p;
  p.name = "operator";
  p.issuer = "operators";
  p.subject_kind = SubjectKind::kOperator;
  p.units = {"Anagrafe Nazionale Popolazione Residente", "Operatori"};
  p.common_name = "{codice_fiscale}";
  p.key_usage = {"digitalSignature"};
  p.rsa_key_usage = {"keyEncipherment"};
  p.extended_key_usage = {"clientAuth"};
  p.validity_months = 72;
  return p;
}

}  // namespace tessera::ca
