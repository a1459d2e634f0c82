#include "tests/support/ca_fixture.h"

#include "platform/migrations.h"
#include "tests/support/test_pki.h"

namespace tessera::testing {

void CaStoreTest::SetUp() {
  PgTest::SetUp();
  ASSERT_TRUE(pg::ApplyMigrations(*conn_, ca::PgCertificateStore::kSchema,
                                  ca::PgCertificateStore::Migrations())
                  .ok());
  pool_ = std::make_unique<pg::ConnectionPool>(conninfo_, 8);
  pg_store_ = std::make_unique<ca::PgCertificateStore>(*pool_);
}

std::vector<uint8_t> CaStoreTest::NewCsr() {
  const std::string der = NewKeyAndCsr().csr_der;
  return {der.begin(), der.end()};
}

ca::IssueRequest CaStoreTest::OperatorRequest(const std::string& request_id) {
  return {request_id, "operator", NewCsr(), {.codice_fiscale = "RSSMRA85T10A562S"}};
}

void CaHierarchyTest::SetUp() {
  CaStoreTest::SetUp();
  if (HasFatalFailure()) return;
  hierarchy_ = std::make_unique<TestHierarchy>(dir_.path().string());
  auto profiles = ca::ProfileSet::LoadFile(hierarchy_->config().profiles_path);
  ASSERT_TRUE(profiles.ok()) << profiles.status();
  profiles_ = std::move(*profiles);
  ca_ = std::make_unique<ca::CertificateAuthority>(*pg_store_, profiles_, hierarchy_->LoadIssuers(),
                                                   clock_);
}

}  // namespace tessera::testing
