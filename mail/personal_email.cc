#include "mail/personal_email.h"

#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "platform/files.h"
#include "platform/status_macros.h"

namespace tessera::mail {
namespace {

absl::Status Refuse(const std::string& why) { return absl::InvalidArgumentError(why); }

}  // namespace

absl::StatusOr<PersonalEmailRules> PersonalEmailRules::Parse(std::string_view text) {
  PersonalEmailRules rules;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (words.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("personal_email.txt line ", line_number, ": expected '<rule> <value>'"));
    }
    const std::string value = absl::AsciiStrToLower(words[1]);
    if (words[0] == "pec-domain") {
      rules.pec_domains_.push_back(value);
    } else if (words[0] == "pec-label") {
      rules.pec_labels_.push_back(value);
    } else if (words[0] == "pec-label-suffix") {
      rules.pec_label_suffixes_.push_back(value);
    } else if (words[0] == "pec-contains") {
      rules.pec_contains_.push_back(value);
    } else if (words[0] == "office") {
      rules.office_names_.push_back(value);
    } else if (words[0] == "office-prefix") {
      rules.office_prefixes_.push_back(value);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("personal_email.txt line ", line_number, ": unknown rule '", words[0], "'"));
    }
  }
  return rules;
}

absl::StatusOr<PersonalEmailRules> PersonalEmailRules::ReadFile(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(std::string text, tessera::ReadFile(path));
  return Parse(text);
}

absl::StatusOr<std::string> PersonalEmailRules::Check(std::string_view raw) const {
  const std::string address =
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(absl::string_view(raw.data(), raw.size())));
  // A dot-atom local part and a host name: what a person's mailbox looks like. Quoted local
  // parts and IP literals are valid RFC 5322 but no institution hands them out.
  static const std::regex kAddress(
      "([a-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*)@"
      "((([a-z0-9]([a-z0-9-]*[a-z0-9])?)\\.)+[a-z]{2,63})");
  std::smatch match;
  if (address.empty()) return Refuse("is empty");
  if (address.size() > 254) return Refuse("is longer than 254 characters");
  if (!std::regex_match(address, match, kAddress)) {
    return Refuse(
        absl::StrCat("'", address, "' is not an e-mail address like nome.cognome@comune.it"));
  }
  const std::string local = match[1];
  const std::string domain = match[3];
  if (local.size() > 64) return Refuse("the part before @ is longer than 64 characters");
  for (absl::string_view label : absl::StrSplit(domain, '.')) {
    if (label.size() > 63) return Refuse("a part of the domain is longer than 63 characters");
  }

  auto pec = [&](const std::string& because) {
    return Refuse(absl::StrCat("'", address, "' is a PEC (", because,
                               "): certified mail refuses the credentials' second halves; give "
                               "the person's ordinary mailbox"));
  };
  for (const std::string& d : pec_domains_) {
    if (domain == d || domain.ends_with("." + d)) return pec("domain " + d);
  }
  for (absl::string_view label : absl::StrSplit(domain, '.')) {
    for (const std::string& l : pec_labels_) {
      if (label == l) return pec(absl::StrCat("domain part '", label, "'"));
    }
    for (const std::string& s : pec_label_suffixes_) {
      if (absl::EndsWith(label, s)) return pec(absl::StrCat("domain part '", label, "'"));
    }
  }
  for (const std::string& c : pec_contains_) {
    if (domain.find(c) != std::string::npos) return pec("domain containing '" + c + "'");
  }
  for (const std::string& name : office_names_) {
    if (local == name) {
      return Refuse(absl::StrCat("'", address, "' is an office mailbox ('", name,
                                 "@'): give the person's own mailbox"));
    }
  }
  for (const std::string& prefix : office_prefixes_) {
    if (local.starts_with(prefix)) {
      return Refuse(absl::StrCat("'", address, "' is an office mailbox ('", prefix,
                                 "...@'): give the person's own mailbox"));
    }
  }
  return address;
}

}  // namespace tessera::mail
