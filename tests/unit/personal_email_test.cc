// The personal e-mail rules with the shipped rules file.
#include "mail/personal_email.h"

#include <gtest/gtest.h>

namespace tessera::mail {
namespace {

class PersonalEmailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto rules = PersonalEmailRules::ReadFile(std::string(TESSERA_SOURCE_DIR) +
                                                    "/deploy/reference/personal_email.txt");
    ASSERT_TRUE(rules.ok()) << rules.status();
    rules_ = std::move(*rules);
  }
  std::string Refusal(std::string_view address) {
    auto checked = rules_.Check(address);
    EXPECT_EQ(checked.status().code(), absl::StatusCode::kInvalidArgument) << address;
    return std::string(checked.status().message());
  }
  PersonalEmailRules rules_;
};

TEST_F(PersonalEmailTest, APersonsMailboxIsAcceptedAndStoredInLowerCase) {
  EXPECT_EQ(*rules_.Check("  Mario.Rossi@Comune.Roma.IT "), "mario.rossi@comune.roma.it");
  EXPECT_EQ(*rules_.Check("a.d'angelo@comune.sant-angelo.it"), "a.d'angelo@comune.sant-angelo.it");
  EXPECT_EQ(*rules_.Check("specialista@specchio.it"), "specialista@specchio.it");
  // A comune whose name starts with "pec" is no PEC provider.
  EXPECT_EQ(*rules_.Check("m.rossi@comune.pecetto.to.it"), "m.rossi@comune.pecetto.to.it");
}

TEST_F(PersonalEmailTest, SyntaxErrorsAreNamed) {
  EXPECT_EQ(Refusal(""), "is empty");
  EXPECT_EQ(Refusal("mario.rossi"),
            "'mario.rossi' is not an e-mail address like nome.cognome@comune.it");
  EXPECT_NE(Refusal("mario..rossi@comune.it").find("is not an e-mail address"), std::string::npos);
  EXPECT_NE(Refusal("mario@-comune.it").find("is not an e-mail address"), std::string::npos);
  EXPECT_NE(Refusal("mario@comune").find("is not an e-mail address"), std::string::npos);
  EXPECT_NE(Refusal("mario@[10.0.0.1]").find("is not an e-mail address"), std::string::npos);
  EXPECT_NE(Refusal("\"mario rossi\"@comune.it").find("is not an e-mail address"),
            std::string::npos);
  EXPECT_EQ(Refusal(std::string(65, 'a') + "@comune.it"),
            "the part before @ is longer than 64 characters");
}

TEST_F(PersonalEmailTest, PecAddressesAreRefused) {
  EXPECT_EQ(Refusal("mario.rossi@pec.it"),
            "'mario.rossi@pec.it' is a PEC (domain pec.it): certified mail refuses the "
            "credentials' second halves; give the person's ordinary mailbox");
  EXPECT_NE(Refusal("m.rossi@legalmail.it").find("is a PEC (domain legalmail.it)"),
            std::string::npos);
  EXPECT_NE(Refusal("m.rossi@cert.legalmail.it").find("is a PEC (domain legalmail.it)"),
            std::string::npos);
  EXPECT_NE(Refusal("m.rossi@pec.comune.roma.it").find("is a PEC (domain part 'pec')"),
            std::string::npos);
  EXPECT_NE(Refusal("m.rossi@arubapec.it").find("is a PEC (domain part 'arubapec')"),
            std::string::npos);
  EXPECT_NE(Refusal("m.rossi@pecveneto.it").find("is a PEC (domain pecveneto.it)"),
            std::string::npos);
  EXPECT_NE(Refusal("m.rossi@comune.postacert.example.it").find("is a PEC"), std::string::npos);
}

TEST_F(PersonalEmailTest, OfficeMailboxesAreRefused) {
  EXPECT_EQ(Refusal("protocollo@comune.roma.it"),
            "'protocollo@comune.roma.it' is an office mailbox ('protocollo@'): give the person's "
            "own mailbox");
  EXPECT_NE(Refusal("ufficio.anagrafe@comune.roma.it").find("('ufficio...@')"), std::string::npos);
  EXPECT_NE(Refusal("Info@Comune.it").find("office mailbox ('info@')"), std::string::npos);
}

TEST(PersonalEmailRules, AnUnknownRuleNamesItsLine) {
  auto rules = PersonalEmailRules::Parse("# comment\n\npec-domain pec.it\npec-domian x.it\n");
  EXPECT_EQ(rules.status().message(), "personal_email.txt line 4: unknown rule 'pec-domian'");
  EXPECT_EQ(PersonalEmailRules::Parse("office\n").status().message(),
            "personal_email.txt line 1: expected '<rule> <value>'");
}

}  // namespace
}  // namespace tessera::mail
