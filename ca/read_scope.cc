#include "ca/read_scope.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace tessera::ca {
namespace {

bool IsWorkstationProfile(std::string_view profile) {
  return profile == "workstation" || profile == "comune_server";
}

bool AllDigits(std::string_view text) {
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

ReadScope ReadScopeOf(const Actor& reader) {
  const std::string who = absl::StrCat(reader.kind, " '", reader.name, "'");
  if (reader.kind == PrincipalKindName(PrincipalKind::kService)) {
    return {.kind = ReadScope::Kind::kEverything,
            .rule = "services: tessera's services and the Ministry's CLI read every certificate"};
  }
  if (reader.kind == PrincipalKindName(PrincipalKind::kWorkstation)) {
    // CN=<ISTAT code><4-digit progressive>: the first six digits name the comune.
    if (reader.name.size() == 10 && AllDigits(reader.name)) {
      return {.kind = ReadScope::Kind::kComuneWorkstations,
              .istat = reader.name.substr(0, 6),
              .rule = absl::StrCat("comune-workstations: workstation ", reader.name,
                                   " reads only the workstation certificates of its comune "
                                   "(CN=",
                                   reader.name.substr(0, 6), "....), never an operator's")};
    }
    return {.rule = absl::StrCat("comune-workstations: ", who, " is no <ISTAT><4 digits> name")};
  }
  if (reader.kind == PrincipalKindName(PrincipalKind::kOperator)) {
    if (!reader.serial.empty()) {
      return {.kind = ReadScope::Kind::kOwnCertificate,
              .serial = reader.serial,
              .rule =
                  "own-certificate: an operator card reads only its own certificate "
                  "(a person acts for an office only after card login)"};
    }
    return {.rule = absl::StrCat("own-certificate: ", who, " presented no certificate")};
  }
  return {.rule = absl::StrCat("no-reads: ", who, " reads no certificates here")};
}

absl::Status ReadScope::Allows(std::string_view profile, std::string_view subject,
                               std::string_view serial_of) const {
  bool allowed = false;
  switch (kind) {
    case Kind::kEverything:
      allowed = true;
      break;
    case Kind::kComuneWorkstations:
      allowed = istat.size() == 6 && IsWorkstationProfile(profile) &&
                subject.starts_with(absl::StrCat("CN=", istat));
      break;
    case Kind::kOwnCertificate:
      allowed = !serial.empty() && serial_of == serial;
      break;
    case Kind::kNothing:
      break;
  }
  if (allowed) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("serial ", std::string(serial_of), ": outside the caller's scope (", rule, ")"));
}

}  // namespace tessera::ca
