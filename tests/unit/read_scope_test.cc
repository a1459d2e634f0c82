// Who reads what of tessera-ca's records (ca/read_scope.h): every rule, and the names the
// refusals give.
#include "ca/read_scope.h"

#include <gtest/gtest.h>

namespace tessera::ca {
namespace {

constexpr char kWorkstation58091[] =
    "CN=0580910002,OU=Postazioni,OU=Anagrafe Nazionale Popolazione Residente,"
    "O=Ministero dell'Interno,C=IT";
constexpr char kWorkstation58092[] =
    "CN=0580920001,OU=Postazioni,OU=Anagrafe Nazionale Popolazione Residente,"
    "O=Ministero dell'Interno,C=IT";
constexpr char kCard[] =
    "CN=RSSMRA85T10A562S,OU=Operatori,OU=Anagrafe Nazionale Popolazione Residente,"
    "O=Ministero dell'Interno,C=IT";

TEST(ReadScope, ServicesReadEverything) {
  const ReadScope scope = ReadScopeOf({.kind = "service", .name = "tessera-registry"});
  EXPECT_EQ(scope.kind, ReadScope::Kind::kEverything);
  EXPECT_TRUE(scope.Allows("operator", kCard, "ab").ok());
  EXPECT_TRUE(scope.Allows("workstation", kWorkstation58092, "cd").ok());
}

TEST(ReadScope, AWorkstationReadsItsComunesWorkstationsOnly) {
  const ReadScope scope =
      ReadScopeOf({.kind = "workstation", .name = "0580910001", .serial = "ab"});
  EXPECT_EQ(scope.kind, ReadScope::Kind::kComuneWorkstations);
  EXPECT_EQ(scope.istat, "058091");
  EXPECT_TRUE(scope.Allows("workstation", kWorkstation58091, "1").ok());
  EXPECT_TRUE(
      scope
          .Allows("comune_server", "CN=0580910099,OU=Postazioni,O=Ministero dell'Interno,C=IT", "2")
          .ok());
  const absl::Status other_comune = scope.Allows("workstation", kWorkstation58092, "3");
  EXPECT_EQ(other_comune.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(other_comune.message(),
            "serial 3: outside the caller's scope (comune-workstations: workstation 0580910001 "
            "reads only the workstation certificates of its comune (CN=058091....), never an "
            "operator's)");
  EXPECT_FALSE(scope.Allows("operator", kCard, "4").ok()) << "no codici fiscali for a comune";
  // A card whose CN happened to start with the digits is still not a workstation.
  EXPECT_FALSE(scope.Allows("operator", kWorkstation58091, "5").ok());
  // A prefettura's workstations: the province code + 000.
  EXPECT_EQ(ReadScopeOf({.kind = "workstation", .name = "0580000001"}).istat, "058000");
}

TEST(ReadScope, AWorkstationWithAnOddNameReadsNothing) {
  for (const char* name : {"058091001", "05809100011", "05809A0001", ""}) {
    const ReadScope scope = ReadScopeOf({.kind = "workstation", .name = name});
    EXPECT_EQ(scope.kind, ReadScope::Kind::kNothing) << name;
    EXPECT_FALSE(scope.Allows("workstation", kWorkstation58091, "1").ok()) << name;
  }
}

TEST(ReadScope, AnOperatorCardReadsItselfOnly) {
  const ReadScope scope =
      ReadScopeOf({.kind = "operator", .name = "RSSMRA85T10A562S", .serial = "abc"});
  EXPECT_EQ(scope.kind, ReadScope::Kind::kOwnCertificate);
  EXPECT_TRUE(scope.Allows("operator", kCard, "abc").ok());
  const absl::Status other = scope.Allows("operator", kCard, "abd");
  EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(other.message().find("own-certificate"), absl::string_view::npos) << other;
  EXPECT_FALSE(scope.Allows("workstation", kWorkstation58091, "abd").ok());
  // Without a certificate serial there is no "own" certificate.
  EXPECT_EQ(ReadScopeOf({.kind = "operator", .name = "RSSMRA85T10A562S"}).kind,
            ReadScope::Kind::kNothing);
}

TEST(ReadScope, OthersReadNothing) {
  for (const char* kind : {"access_code", "system", ""}) {
    const ReadScope scope = ReadScopeOf({.kind = kind, .name = "058091"});
    EXPECT_EQ(scope.kind, ReadScope::Kind::kNothing) << kind;
    const absl::Status refused = scope.Allows("workstation", kWorkstation58091, "1");
    EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_NE(refused.message().find("no-reads"), absl::string_view::npos) << refused;
  }
}

}  // namespace
}  // namespace tessera::ca
