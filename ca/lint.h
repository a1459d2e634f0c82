// Pre-issuance lint: every certificate's TBSCertificate is built, wrapped in an unsigned
// draft and checked here against RFC 5280 and its profile before the issuer's key on the
// token signs those same bytes.
// zlint is not in Debian, so the rules are ours: each rule is one function, named, unit-tested.
#pragma once

#include <botan/pkix_types.h>
#include <botan/x509cert.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ca/profile.h"

namespace tessera::ca {

struct LintInput {
  const Botan::X509_Certificate& certificate;  // the unsigned draft (its signature is zeros)
  const Profile& profile;
  const Botan::X509_DN& expected_subject;
  const Botan::X509_Certificate& issuer;
};

struct LintRule {
  const char* name;  // e.g. "subject_matches_profile"
  absl::Status (*check)(const LintInput&);
};

// Every rule, in the order they run.
const std::vector<LintRule>& LintRules();

// OK, or FAILED_PRECONDITION listing every failed rule: "lint: key_usage: ...; serial_number: ...".
absl::Status Lint(const LintInput& input);

// The CA certificates the key ceremony makes (the self-signed root and the issuing CAs under
// it) have rules of their own; the ceremony lints each one, as an unsigned draft, before
// the token key signs it.
struct CaLintInput {
  const Botan::X509_Certificate& certificate;  // the unsigned draft (its signature is zeros)
  const Botan::X509_Certificate* parent;       // the root for an issuing CA; nullptr for the root
  int validity_years;                          // from the ceremony file
};

struct CaLintRule {
  const char* name;  // e.g. "ca_basic_constraints"
  absl::Status (*check)(const CaLintInput&);
};

const std::vector<CaLintRule>& CaLintRules();

// OK, or FAILED_PRECONDITION listing every failed rule, as Lint does.
absl::Status LintCa(const CaLintInput& input);

}  // namespace tessera::ca
