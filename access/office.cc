#include "access/office.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace tessera::access {
namespace {

bool AllDigits(std::string_view text, size_t length) {
  return text.size() == length && std::all_of(text.begin(), text.end(), absl::ascii_isdigit);
}

}  // namespace

std::string_view Office::KindName() const {
  switch (kind) {
    case Kind::kComune:
      return "comune";
    case Kind::kPrefettura:
      return "prefettura";
    case Kind::kMinistero:
      return "ministero";
  }
  return "";
}

std::string Office::Text() const {
  if (kind == Kind::kMinistero) return std::string(KindName());
  return absl::StrCat(std::string(KindName()), ":", code);
}

absl::StatusOr<Office> ParseOffice(std::string_view text) {
  if (text == "ministero") return Office{Office::Kind::kMinistero, ""};
  if (text.starts_with("comune:") && AllDigits(text.substr(7), 6)) {
    return Office{Office::Kind::kComune, std::string(text.substr(7))};
  }
  if (text.starts_with("prefettura:") && AllDigits(text.substr(11), 3)) {
    return Office{Office::Kind::kPrefettura, std::string(text.substr(11))};
  }
  return absl::InvalidArgumentError(
      absl::StrCat("office: '", std::string(text),
                   "' is not comune:<6 digits>, prefettura:<3 digits> or ministero"));
}

absl::StatusOr<Office> OfficeOfMachine(const Principal& caller) {
  if (caller.kind == PrincipalKind::kService && caller.name == kMinistryMachine) {
    return Office{Office::Kind::kMinistero, ""};
  }
  if (caller.kind == PrincipalKind::kWorkstation && AllDigits(caller.name, 10)) {
    const std::string owner = caller.name.substr(0, 6);
    if (owner.ends_with("000")) return Office{Office::Kind::kPrefettura, owner.substr(0, 3)};
    return Office{Office::Kind::kComune, owner};
  }
  return absl::PermissionDeniedError(
      absl::StrCat("a ", std::string(PrincipalKindName(caller.kind)), " '", caller.name,
                   "' is no office's machine: persons log in from a comune's or prefettura's "
                   "workstation, or a Ministry machine"));
}

bool Covers(const Office& actor, std::string_view istat) {
  switch (actor.kind) {
    case Office::Kind::kMinistero:
      return true;
    case Office::Kind::kComune:
      return actor.code == istat;
    case Office::Kind::kPrefettura:
      return istat.size() == 6 && istat.substr(0, 3) == actor.code;
  }
  return false;
}

}  // namespace tessera::access
