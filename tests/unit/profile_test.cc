#include "ca/profile.h"

#include <gtest/gtest.h>

namespace tessera::ca {
namespace {

constexpr char kOperator[] = R"(
[[profile]]
name = "operator"
issuer = "operators"
subject = "operator"
units = ["Anagrafe Nazionale Popolazione Residente", "Operatori"]
common_name = "{codice_fiscale}"
key_usage = ["digitalSignature"]
extended_key_usage = ["clientAuth"]
validity_months = 72
)";

std::string ErrorOf(const std::string& toml) {
  auto set = ProfileSet::Parse(toml, "p.toml");
  EXPECT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(set.status().message());
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

TEST(Profiles, TheShippedFileLoadsWithEveryProfileTheCaNeeds) {
  auto set = ProfileSet::LoadFile(std::string(TESSERA_SOURCE_DIR) + "/deploy/ca/profiles.toml");
  ASSERT_TRUE(set.ok()) << set.status();
  for (const char* name :
       {"operator", "workstation", "comune_server", "service", "ocsp_responder"}) {
    EXPECT_TRUE(set->Find(name).ok()) << name;
  }
  const Profile& op = **set->Find("operator");
  EXPECT_EQ(op.units,
            (std::vector<std::string>{"Anagrafe Nazionale Popolazione Residente", "Operatori"}));
  EXPECT_EQ(op.validity_months, 72);
  EXPECT_EQ((*set->Find("operator"))->issuer, "operators");
  EXPECT_EQ((*set->Find("workstation"))->issuer, "workstations");
  EXPECT_TRUE((*set->Find("ocsp_responder"))->ocsp_no_check);
  EXPECT_EQ((*set->Find("ocsp_responder"))->issuer, kEachIssuer);
  EXPECT_FALSE((*set->Find("ocsp_responder"))->requestable);
  EXPECT_FALSE((*set->Find("service"))->requestable);
  EXPECT_TRUE((*set->Find("operator"))->requestable);
  EXPECT_EQ((*set->Find("comune_server"))->progressive, 99);
  EXPECT_TRUE(set->CheckProgressive(**set->Find("workstation"), 1).ok());
  EXPECT_FALSE(set->CheckProgressive(**set->Find("workstation"), 99).ok());
  EXPECT_TRUE(set->CheckProgressive(**set->Find("comune_server"), 99).ok());
  EXPECT_EQ(set->Find("nope").status().code(), absl::StatusCode::kNotFound);
}

TEST(Profiles, TheFieldFormOfWorkstationNamesIsExpressible) {
  auto set = ProfileSet::Parse(
      Replace(Replace(Replace(kOperator, "\"{codice_fiscale}\"", "\"{istat}-PC-{progressive}\""),
                      "subject = \"operator\"", "subject = \"workstation\""),
              "\"Operatori\"", "\"Postazioni\""),
      "p.toml");
  ASSERT_TRUE(set.ok()) << set.status();
}

TEST(Profiles, MistakesNameTheProfileFieldAndRule) {
  EXPECT_EQ(ErrorOf(Replace(kOperator, "\"digitalSignature\"", "\"digitalSignatur\"")),
            "p.toml: profile 'operator': key_usage: unknown key usage 'digitalSignatur'");
  EXPECT_EQ(ErrorOf(Replace(kOperator, "\"clientAuth\"", "\"emailProtection\"")),
            "p.toml: profile 'operator': extended_key_usage: unknown usage 'emailProtection'");
  EXPECT_EQ(ErrorOf(Replace(kOperator, "{codice_fiscale}", "{istat}")),
            "p.toml: profile 'operator': common_name: placeholder {istat} does not fit this "
            "subject kind");
  EXPECT_EQ(ErrorOf(Replace(kOperator, "issuer = \"operators\"", "isuer = \"operators\"")),
            "p.toml: profile 'operator': isuer: unknown field");
  EXPECT_EQ(ErrorOf(Replace(kOperator, "subject = \"operator\"", "subject = \"card\"")),
            "p.toml: profile 'operator': subject: must be operator, workstation, service or "
            "ocsp_responder");
  EXPECT_EQ(ErrorOf(std::string(kOperator) + kOperator),
            "p.toml: profile 'operator': name: two profiles have this name");
  EXPECT_EQ(ErrorOf(Replace(kOperator, "units = [", "units = [] #")),
            "p.toml: profile 'operator': units: at least one OU is required");
  EXPECT_EQ(ErrorOf(Replace(kOperator, "validity_months = 72", "")),
            "p.toml: profile 'operator': validity: validity_months or validity_days must be "
            "positive");
  EXPECT_EQ(ErrorOf(Replace(kOperator, "issuer = \"operators\"", "issuer = \"*\"")),
            "p.toml: profile 'operator': issuer: '*' (each CA its own) is for OCSP responders "
            "only");
  EXPECT_EQ(
      ErrorOf(Replace(kOperator, "validity_months = 72", "validity_months = 72\nprogressive = 99")),
      "p.toml: profile 'operator': progressive: 1 to 9999, and only for workstation subjects");
  EXPECT_EQ(ErrorOf("x = 1"), "p.toml: no [[profile]] entries");
  EXPECT_NE(ErrorOf("[[profile]\n").find("p.toml:"), std::string::npos);
}

}  // namespace
}  // namespace tessera::ca
