// A census user's personal e-mail: where the second halves of the card's PIN, PUK and
// password go once the card is delivered. It must be a valid address of a person's own
// mailbox, and not a PEC (certified mail refuses ordinary messages: a known failure in the
// field). The PEC providers and office mailbox names are data (deploy/reference/
// personal_email.txt).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::mail {

class PersonalEmailRules {
 public:
  // Parses the rules file; INVALID_ARGUMENT naming the line of an unknown rule.
  static absl::StatusOr<PersonalEmailRules> Parse(std::string_view text);
  static absl::StatusOr<PersonalEmailRules> ReadFile(const std::string& path);

  // The address in the form tessera stores (surrounding spaces dropped, lower case), or
  // INVALID_ARGUMENT naming the rule it breaks: its syntax, a PEC, an office mailbox.
  absl::StatusOr<std::string> Check(std::string_view address) const;

 private:
  std::vector<std::string> pec_domains_, pec_labels_, pec_label_suffixes_, pec_contains_,
      office_names_, office_prefixes_;
};

}  // namespace tessera::mail
