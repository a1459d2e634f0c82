// Fixtures for the CA against the run's PostgreSQL: a fresh database with the "ca" schema
// migrated and a pool on it (CaStoreTest); and on top of that the key ceremony's SoftHSM
// hierarchy with the CertificateAuthority tessera-ca would build from it (CaHierarchyTest).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ca/authority.h"
#include "ca/certificate_store.h"
#include "platform/actor.h"
#include "platform/clock.h"
#include "platform/pg_pool.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_ceremony.h"
#include "tests/support/test_pg.h"

namespace tessera::testing {

// Who the CA tests act as: the Ministry's CLI, as a handler names its caller.
inline Actor CliActor() {
  return {.kind = "service", .name = "tessera-cli", .serial = "c11", .call_id = "call-cli"};
}

class CaStoreTest : public PgTest {
 protected:
  void SetUp() override;
  // A PKCS#10 request for a fresh software P-256 key, and an operator-card request with it.
  static std::vector<uint8_t> NewCsr();
  static ca::IssueRequest OperatorRequest(const std::string& request_id);

  std::unique_ptr<pg::ConnectionPool> pool_;
  std::unique_ptr<ca::PgCertificateStore> pg_store_;
};

class CaHierarchyTest : public CaStoreTest {
 protected:
  void SetUp() override;
  // The single number a query like "SELECT count(*) …" returns.
  int64_t Count(const std::string& sql) { return conn_->Exec(sql)->Int(0, 0); }

  TempDir dir_;
  std::unique_ptr<TestHierarchy> hierarchy_;
  FakeClock clock_{std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())};
  ca::ProfileSet profiles_;
  std::unique_ptr<ca::CertificateAuthority> ca_;
};

}  // namespace tessera::testing
