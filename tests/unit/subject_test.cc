#include "ca/subject.h"

#include <botan/ber_dec.h>
#include <botan/oids.h>
#include <gtest/gtest.h>

#include "tests/unit/test_profiles.h"

namespace tessera::ca {
namespace {

Profile WorkstationProfile(const std::string& cn) {
  Profile p = TestOperatorProfile();
  p.subject_kind = SubjectKind::kWorkstation;
  p.units = {"Anagrafe Nazionale Popolazione Residente", "Postazioni"};
  p.common_name = cn;
  return p;
}

// (attribute name, value) in the order they are encoded.
std::vector<std::pair<std::string, std::string>> Attributes(const std::vector<uint8_t>& der) {
  std::vector<std::pair<std::string, std::string>> out;
  Botan::BER_Decoder name = Botan::BER_Decoder(der).start_cons(Botan::SEQUENCE);
  while (name.more_items()) {
    Botan::BER_Decoder rdn = name.start_cons(Botan::SET);
    Botan::OID oid;
    Botan::ASN1_String value;
    rdn.start_cons(Botan::SEQUENCE).decode(oid).decode(value).end_cons();
    rdn.end_cons();
    out.emplace_back(Botan::OIDS::oid2str_or_empty(oid), value.value());
  }
  return out;
}

TEST(Subject, OperatorSubjectIsBuiltRootFirstInProfileOrder) {
  auto dn = BuildSubject(TestOperatorProfile(), {.codice_fiscale = "RSSMRA85T10A562S"});
  ASSERT_TRUE(dn.ok()) << dn.status();
  using Pair = std::pair<std::string, std::string>;
  EXPECT_EQ(
      Attributes(EncodeDn(*dn)),
      (std::vector<Pair>{{"X520.Country", "IT"},
                         {"X520.Organization", "Ministero dell'Interno"},
                         {"X520.OrganizationalUnit", "Anagrafe Nazionale Popolazione Residente"},
                         {"X520.OrganizationalUnit", "Operatori"},
                         {"X520.CommonName", "RSSMRA85T10A562S"}}));
}

TEST(Subject, PrintsRfc2253MostSpecificFirst) {
  auto dn = BuildSubject(TestOperatorProfile(), {.codice_fiscale = "RSSMRA85T10A562S"});
  ASSERT_TRUE(dn.ok());
  EXPECT_EQ(Rfc2253(*dn),
            "CN=RSSMRA85T10A562S,OU=Operatori,OU=Anagrafe Nazionale Popolazione Residente,"
            "O=Ministero dell'Interno,C=IT");
  Botan::X509_DN odd;
  odd.add_attribute("X520.CommonName", "a,b+c");
  EXPECT_EQ(Rfc2253(odd), "CN=a\\,b\\+c");
}

TEST(Subject, WorkstationNamesInSeedAndFieldForms) {
  auto seed = RenderCommonName(WorkstationProfile("{istat}{progressive}"),
                               {.istat = "058091", .progressive = 99});
  ASSERT_TRUE(seed.ok()) << seed.status();
  EXPECT_EQ(*seed, "0580910099");
  auto field = RenderCommonName(WorkstationProfile("{istat}-PC-{progressive}"),
                                {.istat = "058091", .progressive = 7});
  ASSERT_TRUE(field.ok());
  EXPECT_EQ(*field, "058091-PC-0007");
}

TEST(Subject, BadSubjectDataNamesTheField) {
  auto message = [](const Profile& p, const SubjectData& d) {
    return std::string(RenderCommonName(p, d).status().message());
  };
  EXPECT_EQ(message(TestOperatorProfile(), {.codice_fiscale = "RSSMRA85T10A562X"}),
            "subject.codice_fiscale: check character is 'X', expected 'S'");
  EXPECT_EQ(message(TestOperatorProfile(), {.codice_fiscale = "rssmra85t10a562s"}),
            "subject.codice_fiscale: must be upper case without spaces or dashes");
  EXPECT_EQ(message(TestOperatorProfile(), {}), "subject.codice_fiscale: is required");
  const Profile ws = WorkstationProfile("{istat}{progressive}");
  EXPECT_EQ(message(ws, {.istat = "58091", .progressive = 1}),
            "subject.istat: must be the 6-digit ISTAT code of a comune");
  EXPECT_EQ(message(ws, {.istat = "058091", .progressive = 10000}),
            "subject.progressive: must be 1 to 9999");
}

TEST(Subject, DnMetacharactersAreRefused) {
  EXPECT_EQ(CheckDnValue("units[0]", "Operatori, CN=admin").message(),
            "units[0]: the character ',' is not allowed in a distinguished name value");
  EXPECT_EQ(CheckDnValue("cn", "a=b").message(),
            "cn: the character '=' is not allowed in a distinguished name value");
  EXPECT_EQ(CheckDnValue("cn", std::string("a\nb")).message(),
            "cn: control characters are not allowed");
  EXPECT_EQ(CheckDnValue("cn", "").message(), "cn: must be 1 to 64 characters, has 0");
  EXPECT_TRUE(CheckDnValue("o", "Ministero dell'Interno").ok());
}

}  // namespace
}  // namespace tessera::ca
