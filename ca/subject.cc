#include "ca/subject.h"

#include <botan/der_enc.h>

#include <cstdio>
#include <map>
#include <regex>

#include "absl/strings/str_cat.h"
#include "identity/codice_fiscale.h"
#include "platform/status_macros.h"

namespace tessera::ca {
namespace {

absl::Status FieldError(const std::string& field, const std::string& rule) {
  return absl::InvalidArgumentError(absl::StrCat("subject.", field, ": ", rule));
}

std::string Replace(std::string text, const std::string& placeholder, const std::string& value) {
  for (size_t at = text.find(placeholder); at != std::string::npos;
       at = text.find(placeholder, at + value.size())) {
    text.replace(at, placeholder.size(), value);
  }
  return text;
}

}  // namespace

absl::Status CheckDnValue(std::string_view field, std::string_view value) {
  if (value.empty() || value.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), ": must be 1 to 64 characters, has ", value.size()));
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(field), ": control characters are not allowed"));
    }
    if (std::string_view(",=+\"\\<>;#").find(static_cast<char>(c)) != std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          std::string(field), ": the character '", std::string(1, static_cast<char>(c)),
          "' is not allowed in a distinguished name value"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RenderCommonName(const Profile& profile, const SubjectData& data) {
  std::string cn = profile.common_name;
  switch (profile.subject_kind) {
    case SubjectKind::kOperator: {
      if (data.codice_fiscale.empty()) return FieldError("codice_fiscale", "is required");
      if (data.codice_fiscale != identity::NormalizeCodiceFiscale(data.codice_fiscale)) {
        return FieldError("codice_fiscale", "must be upper case without spaces or dashes");
      }
      if (absl::Status st = identity::ValidateCodiceFiscale(data.codice_fiscale); !st.ok()) {
        return FieldError("codice_fiscale", std::string(st.message()));
      }
      cn = Replace(cn, "{codice_fiscale}", data.codice_fiscale);
      break;
    }
    case SubjectKind::kWorkstation: {
      if (data.istat.size() != 6 ||
          data.istat.find_first_not_of("0123456789") != std::string::npos) {
        return FieldError("istat", "must be the 6-digit ISTAT code of a comune");
      }
      if (data.progressive < 1 || data.progressive > 9999) {
        return FieldError("progressive", "must be 1 to 9999");
      }
      char progressive[8];
      std::snprintf(progressive, sizeof progressive, "%04d", data.progressive);
      cn = Replace(Replace(cn, "{istat}", data.istat), "{progressive}", progressive);
      break;
    }
    case SubjectKind::kService:
    case SubjectKind::kOcspResponder: {
      if (data.service.empty() || data.service.size() > 64 ||
          data.service.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") !=
              std::string::npos) {
        return FieldError("service", "must be 1 to 64 of a-z, 0-9 and '-'");
      }
      cn = Replace(cn, "{service}", data.service);
      break;
    }
  }
  TESSERA_RETURN_IF_ERROR(CheckDnValue("subject.common_name", cn));
  return cn;
}

absl::StatusOr<Botan::X509_DN> BuildSubject(const Profile& profile, const SubjectData& data) {
  TESSERA_ASSIGN_OR_RETURN(std::string common_name, RenderCommonName(profile, data));
  // Botan encodes attributes in the order they are added: root first.
  Botan::X509_DN dn;
  dn.add_attribute("X520.Country", profile.country);
  dn.add_attribute("X520.Organization", profile.organization);
  for (const std::string& unit : profile.units) dn.add_attribute("X520.OrganizationalUnit", unit);
  dn.add_attribute("X520.CommonName", common_name);
  return dn;
}

absl::StatusOr<Botan::AlternativeName> BuildAlternativeName(const Profile& profile,
                                                            const SubjectData& data) {
  if (!profile.subject_alt_names) {
    return absl::FailedPreconditionError("profile " + profile.name + " has no subjectAltName");
  }
  if (data.dns_names.empty() && data.ip_addresses.empty()) {
    return FieldError("dns_names", "a TLS certificate needs at least one DNS name or IP address");
  }
  Botan::AlternativeName names;
  static const std::regex kHost(
      R"(([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*)");
  for (size_t i = 0; i < data.dns_names.size(); ++i) {
    if (data.dns_names[i].size() > 253 || !std::regex_match(data.dns_names[i], kHost)) {
      return FieldError(absl::StrCat("dns_names[", i, "]"), "must be a lower-case host name");
    }
    names.add_attribute("DNS", data.dns_names[i]);
  }
  static const std::regex kIpv4(
      R"(((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9]))");
  for (size_t i = 0; i < data.ip_addresses.size(); ++i) {
    if (!std::regex_match(data.ip_addresses[i], kIpv4)) {
      return FieldError(absl::StrCat("ip_addresses[", i, "]"), "must be an IPv4 address");
    }
    names.add_attribute("IP", data.ip_addresses[i]);
  }
  return names;
}

std::string Rfc2253(const Botan::X509_DN& dn) {
  static const std::map<std::string, std::string> kShortNames = {
      {"2.5.4.3", "CN"}, {"2.5.4.11", "OU"}, {"2.5.4.10", "O"},
      {"2.5.4.6", "C"},  {"2.5.4.7", "L"},   {"2.5.4.8", "ST"}};
  std::string out;
  const auto& attributes = dn.dn_info();
  for (auto it = attributes.rbegin(); it != attributes.rend(); ++it) {
    if (!out.empty()) out.push_back(',');
    auto name = kShortNames.find(it->first.to_string());
    out += name != kShortNames.end() ? name->second : it->first.to_string();
    out.push_back('=');
    const std::string& value = it->second.value();
    for (size_t i = 0; i < value.size(); ++i) {
      const char c = value[i];
      const bool special = std::string_view(",+\"\\<>;").find(c) != std::string_view::npos ||
                           (i == 0 && (c == '#' || c == ' ')) ||
                           (i + 1 == value.size() && c == ' ');
      if (special) out.push_back('\\');
      out.push_back(c);
    }
  }
  return out;
}

std::vector<uint8_t> EncodeDn(const Botan::X509_DN& dn) {
  std::vector<uint8_t> der;
  Botan::DER_Encoder(der).encode(dn);
  return der;
}

}  // namespace tessera::ca
