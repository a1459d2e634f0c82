#include "ca/profile.h"

#include <toml++/toml.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "platform/files.h"
#include "platform/status_macros.h"

namespace tessera::ca {
namespace {

absl::Status Error(const std::string& source, const std::string& profile, const std::string& field,
                   const std::string& rule) {
  return absl::InvalidArgumentError(
      absl::StrCat(source, ": profile '", profile, "': ", field, ": ", rule));
}

absl::StatusOr<std::vector<std::string>> Strings(const toml::table& table, const char* key,
                                                 const std::string& source,
                                                 const std::string& profile) {
  std::vector<std::string> out;
  const toml::node* node = table.get(key);
  if (node == nullptr) return out;
  const toml::array* array = node->as_array();
  if (array == nullptr) return Error(source, profile, key, "must be a list of strings");
  for (const toml::node& item : *array) {
    std::optional<std::string> value = item.value<std::string>();
    if (!value || !item.is_string())
      return Error(source, profile, key, "must be a list of strings");
    out.push_back(*value);
  }
  return out;
}

absl::Status Validate(const Profile& p, const std::string& source) {
  const std::string& n = p.name;
  if (p.issuer.empty()) return Error(source, n, "issuer", "is required");
  if (p.issuer == kEachIssuer && p.subject_kind != SubjectKind::kOcspResponder) {
    return Error(source, n, "issuer",
                 absl::StrCat("'", kEachIssuer, "' (each CA its own) is for OCSP responders only"));
  }
  if (p.progressive != 0 &&
      (p.subject_kind != SubjectKind::kWorkstation || p.progressive < 1 || p.progressive > 9999)) {
    return Error(source, n, "progressive", "1 to 9999, and only for workstation subjects");
  }
  if (p.issuer == kEachIssuer && p.requestable) {
    return Error(source, n, "requestable", "must be false for a profile every CA signs");
  }
  if (!p.renewable_services.empty() && p.subject_kind != SubjectKind::kService) {
    return Error(source, n, "renewable_services", "only for service profiles");
  }
  for (const std::string& service : p.renewable_services) {
    if (service.empty() || service.size() > 64 ||
        service.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
      return Error(source, n, "renewable_services",
                   absl::StrCat("'", service, "': a service name is 1 to 64 of a-z 0-9 -"));
    }
  }
  if (p.common_name.empty()) return Error(source, n, "common_name", "is required");
  if (p.units.empty()) return Error(source, n, "units", "at least one OU is required");
  if (p.country.size() != 2) return Error(source, n, "country", "must be a 2-letter code");
  static const std::map<SubjectKind, std::set<std::string>> kPlaceholders = {
      {SubjectKind::kOperator, {"codice_fiscale"}},
      {SubjectKind::kWorkstation, {"istat", "progressive"}},
      {SubjectKind::kService, {"service"}},
      {SubjectKind::kOcspResponder, {"service"}},
  };
  const std::set<std::string>& allowed = kPlaceholders.at(p.subject_kind);
  std::set<std::string> used;
  for (size_t open = p.common_name.find('{'); open != std::string::npos;
       open = p.common_name.find('{', open + 1)) {
    size_t close = p.common_name.find('}', open);
    if (close == std::string::npos) return Error(source, n, "common_name", "unclosed '{'");
    std::string name = p.common_name.substr(open + 1, close - open - 1);
    if (!allowed.contains(name)) {
      return Error(source, n, "common_name",
                   absl::StrCat("placeholder {", name, "} does not fit this subject kind"));
    }
    used.insert(name);
  }
  if (used != allowed) {
    return Error(source, n, "common_name", "must use every placeholder of its subject kind");
  }
  for (const std::string& ku : p.key_usage) {
    if (!IsKnownKeyUsage(ku)) {
      return Error(source, n, "key_usage", absl::StrCat("unknown key usage '", ku, "'"));
    }
  }
  for (const std::string& ku : p.rsa_key_usage) {
    if (!IsKnownKeyUsage(ku)) {
      return Error(source, n, "rsa_key_usage", absl::StrCat("unknown key usage '", ku, "'"));
    }
  }
  if (p.key_usage.empty()) return Error(source, n, "key_usage", "at least one is required");
  for (const std::string& eku : p.extended_key_usage) {
    if (!KnownExtendedKeyUsages().contains(eku)) {
      return Error(source, n, "extended_key_usage", absl::StrCat("unknown usage '", eku, "'"));
    }
  }
  if (p.extended_key_usage.empty()) {
    return Error(source, n, "extended_key_usage", "at least one is required");
  }
  if (p.validity_days < 0 || p.validity_months < 0 ||
      (p.validity_days == 0 && p.validity_months == 0)) {
    return Error(source, n, "validity", "validity_months or validity_days must be positive");
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<std::pair<std::string, Botan::Key_Constraints>>& KnownKeyUsages() {
  static const std::vector<std::pair<std::string, Botan::Key_Constraints>> kUsages = {
      {"digitalSignature", Botan::DIGITAL_SIGNATURE},
      {"nonRepudiation", Botan::NON_REPUDIATION},
      {"keyEncipherment", Botan::KEY_ENCIPHERMENT},
      {"dataEncipherment", Botan::DATA_ENCIPHERMENT},
      {"keyAgreement", Botan::KEY_AGREEMENT},
      {"keyCertSign", Botan::KEY_CERT_SIGN},
      {"cRLSign", Botan::CRL_SIGN}};
  return kUsages;
}

bool IsKnownKeyUsage(const std::string& name) {
  for (const auto& [known, bit] : KnownKeyUsages()) {
    if (known == name) return true;
  }
  return false;
}

const std::map<std::string, std::string>& KnownExtendedKeyUsages() {
  static const std::map<std::string, std::string> kUsages = {
      {"serverAuth", "1.3.6.1.5.5.7.3.1"},
      {"clientAuth", "1.3.6.1.5.5.7.3.2"},
      {"OCSPSigning", "1.3.6.1.5.5.7.3.9"},
  };
  return kUsages;
}

absl::StatusOr<ProfileSet> ProfileSet::Parse(const std::string& text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& error) {
    std::ostringstream where;
    where << error.source().begin;
    return absl::InvalidArgumentError(
        absl::StrCat(source, ":", where.str(), ": ", std::string(error.description())));
  }
  const toml::array* list = root["profile"].as_array();
  if (list == nullptr || list->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": no [[profile]] entries"));
  }
  static const std::map<std::string, SubjectKind> kKinds = {
      {"operator", SubjectKind::kOperator},
      {"workstation", SubjectKind::kWorkstation},
      {"service", SubjectKind::kService},
      {"ocsp_responder", SubjectKind::kOcspResponder},
  };
  static const std::set<std::string> kKeys = {"name",
                                              "issuer",
                                              "subject",
                                              "country",
                                              "organization",
                                              "units",
                                              "common_name",
                                              "key_usage",
                                              "rsa_key_usage",
                                              "extended_key_usage",
                                              "validity_months",
                                              "validity_days",
                                              "ocsp_no_check",
                                              "subject_alt_names",
                                              "requestable",
                                              "progressive",
                                              "renewable_services"};

  ProfileSet set;
  int index = 0;
  for (const toml::node& node : *list) {
    const toml::table* t = node.as_table();
    const std::string where = absl::StrCat("profile[", index++, "]");
    if (t == nullptr) return absl::InvalidArgumentError(source + ": " + where + " is not a table");
    Profile p;
    p.name = t->get("name") ? t->get("name")->value_or(std::string()) : std::string();
    if (p.name.empty())
      return absl::InvalidArgumentError(source + ": " + where + ": name is required");
    for (const auto& [key, value] : *t) {
      if (!kKeys.contains(std::string(key.str()))) {
        return Error(source, p.name, std::string(key.str()), "unknown field");
      }
    }
    p.issuer = (*t)["issuer"].value_or(std::string());
    const std::string kind = (*t)["subject"].value_or(std::string());
    auto found = kKinds.find(kind);
    if (found == kKinds.end()) {
      return Error(source, p.name, "subject",
                   "must be operator, workstation, service or ocsp_responder");
    }
    p.subject_kind = found->second;
    p.country = (*t)["country"].value_or(p.country);
    p.organization = (*t)["organization"].value_or(p.organization);
    TESSERA_ASSIGN_OR_RETURN(p.units, Strings(*t, "units", source, p.name));
    p.common_name = (*t)["common_name"].value_or(std::string());
    TESSERA_ASSIGN_OR_RETURN(p.key_usage, Strings(*t, "key_usage", source, p.name));
    TESSERA_ASSIGN_OR_RETURN(p.rsa_key_usage, Strings(*t, "rsa_key_usage", source, p.name));
    TESSERA_ASSIGN_OR_RETURN(p.extended_key_usage,
                             Strings(*t, "extended_key_usage", source, p.name));
    p.validity_months = static_cast<int>((*t)["validity_months"].value_or(int64_t{0}));
    p.validity_days = static_cast<int>((*t)["validity_days"].value_or(int64_t{0}));
    p.ocsp_no_check = (*t)["ocsp_no_check"].value_or(false);
    p.subject_alt_names = (*t)["subject_alt_names"].value_or(false);
    p.requestable = (*t)["requestable"].value_or(true);
    p.progressive = static_cast<int>((*t)["progressive"].value_or(int64_t{0}));
    TESSERA_ASSIGN_OR_RETURN(p.renewable_services,
                             Strings(*t, "renewable_services", source, p.name));
    TESSERA_RETURN_IF_ERROR(Validate(p, source));
    std::string name = p.name;
    if (!set.profiles_.emplace(name, std::move(p)).second) {
      return Error(source, name, "name", "two profiles have this name");
    }
  }
  return set;
}

absl::StatusOr<ProfileSet> ProfileSet::LoadFile(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return Parse(text, path);
}

absl::StatusOr<const Profile*> ProfileSet::Find(const std::string& name) const {
  auto it = profiles_.find(name);
  if (it == profiles_.end()) {
    return absl::NotFoundError(absl::StrCat("profile '", name, "' does not exist"));
  }
  return &it->second;
}

absl::Status ProfileSet::CheckProgressive(const Profile& profile, int progressive) const {
  if (profile.subject_kind != SubjectKind::kWorkstation) return absl::OkStatus();
  if (profile.progressive != 0 && profile.progressive != progressive) {
    return absl::InvalidArgumentError(absl::StrCat("subject.progressive: profile '", profile.name,
                                                   "' is for progressive ", profile.progressive));
  }
  for (const auto& [name, other] : profiles_) {
    if (name != profile.name && other.subject_kind == SubjectKind::kWorkstation &&
        other.progressive == progressive) {
      return absl::InvalidArgumentError(absl::StrCat("subject.progressive: ", progressive,
                                                     " is reserved for profile '", name, "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace tessera::ca
