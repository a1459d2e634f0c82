// bench/ca_revocation: what a revocation costs when the CA has already revoked many
// certificates, and how long the CRL publisher takes to sign a CRL that lists them all.
// Real PostgreSQL (fsync on) and a SoftHSM issuing key; prints a table and JSON.
//
//   ca_revocation [--revoked N]   (default 100000)
#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/x509_crl.h>
#include <botan/x509self.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "ca/authority.h"
#include "ca/crl_publisher.h"
#include "hsm/token_key.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pg.h"

namespace {

using Steady = std::chrono::steady_clock;

template <typename T>
T OrDie(absl::StatusOr<T> value, const char* what) {
  if (!value.ok()) {
    std::cerr << "ca_revocation: " << what << ": " << value.status() << "\n";
    std::exit(1);
  }
  return std::move(*value);
}
void OrDie(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    std::cerr << "ca_revocation: " << what << ": " << status << "\n";
    std::exit(1);
  }
}

double Ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  using namespace tessera;
  namespace testing = tessera::testing;
  int64_t revoked = 100000;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--revoked" && i + 1 < argc) {
      revoked = std::stoll(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: ca_revocation [--revoked N]\n");
      return 2;
    }
  }

  auto& pg = testing::TestPg::Get();
  const std::string database = pg.CreateDatabase();
  auto conn = OrDie(pg::Connection::Open(pg.ConnInfo(database)), "connect");
  OrDie(pg::ApplyMigrations(*conn, ca::PgCertificateStore::kSchema,
                            ca::PgCertificateStore::Migrations())
            .status(),
        "migrations");
  pg::ConnectionPool pool(pg.ConnInfo(database), 4);

  auto profiles =
      OrDie(ca::ProfileSet::LoadFile(std::string(TESSERA_SOURCE_DIR) + "/deploy/ca/profiles.toml"),
            "profiles");
  auto token = testing::TestSoftHsm::Get().CreateToken("bench-ca");
  auto key =
      OrDie(hsm::GenerateTokenKey(token, {.algorithm = hsm::KeyAlgorithm::kEcP256,
                                          .id = {'o', 'p', 'e', 'r', 'a', 't', 'o', 'r', 's'},
                                          .label = "operators"}),
            "keygen");
  Botan::AutoSeeded_RNG rng;
  Botan::X509_Cert_Options options("Tessera CA Operatori/IT/Ministero dell'Interno");
  options.CA_key(0);
  auto cert = std::make_unique<Botan::X509_Certificate>(
      Botan::X509::create_self_signed_cert(options, *key, "SHA-256", rng));
  std::map<std::string, std::unique_ptr<ca::Issuer>> issuers;
  issuers["operators"] =
      OrDie(ca::Issuer::Create(ca::IssuerContext::ForBaseUrl("operators", "http://127.0.0.1:8080"),
                               std::move(cert), std::move(key)),
            "issuer");
  SystemClock clock;
  ca::PgCertificateStore store(pool);
  ca::CertificateAuthority authority(store, profiles, std::move(issuers), clock);
  ca::PgCrlStore crls(pool);
  ca::CrlPublisher publisher(crls, authority.issuers(), clock);

  // N revoked certificates already on record (rows only: what matters is their number).
  const auto fill_started = Steady::now();
  OrDie(conn->Exec(
                "INSERT INTO ca.certificates (serial, request_id, request_sha256, issuer, profile, "
                "subject, subject_data, subject_public_key, subject_key_sha256, not_before, "
                "not_after, state, der, issued_at, revoked_at, revocation_reason) "
                "SELECT '7' || substr(md5(i::text), 2), 'fill-' || i, decode(md5(i::text), 'hex'), "
                "'operators', 'operator', 'CN=x', '{}', '\\x00', decode(md5('k' || i), 'hex'), "
                "now(), now() + interval '6 years', 'ISSUED', '\\x00', now(), now(), 1 "
                "FROM generate_series(1, $1::bigint) i",
                {pg::Param(revoked)})
            .status(),
        "fill");
  OrDie(conn->Exec("ANALYZE ca.certificates").status(), "analyze");
  const double fill_ms = Ms(Steady::now() - fill_started);
  OrDie(publisher.RunOnce().status(), "first CRL");

  // One real certificate, then its revocation: the request path.
  Botan::ECDSA_PrivateKey subject(rng, Botan::EC_Group("secp256r1"));
  Botan::X509_Cert_Options request_options("x");
  auto issued = OrDie(
      authority.Issue(
          {"bench-1",
           "operator",
           Botan::X509::create_cert_req(request_options, subject, "SHA-256", rng).BER_encode(),
           {.codice_fiscale = "RSSMRA85T10A562S"}},
          SystemActor("ca_revocation")),
      "issue");
  const auto revoke_started = Steady::now();
  OrDie(authority.Revoke("bench-revoke-1", issued.serial, 1, SystemActor("ca_revocation")).status(),
        "revoke");
  const double revoke_ms = Ms(Steady::now() - revoke_started);

  // The CRL that follows, built and signed off the request path.
  const auto crl_started = Steady::now();
  OrDie(publisher.RunOnce().status(), "CRL");
  const double crl_ms = Ms(Steady::now() - crl_started);
  auto state = OrDie(crls.State("operators"), "state");
  Botan::X509_CRL crl(state.der);
  const size_t entries = crl.get_revoked().size();

  std::printf("%-38s %12s\n", "measure", "value");
  std::printf("%-38s %12lld\n", "revoked certificates on record", static_cast<long long>(revoked));
  std::printf("%-38s %12.1f\n", "fill (ms)", fill_ms);
  std::printf("%-38s %12.2f\n", "one revocation, request path (ms)", revoke_ms);
  std::printf("%-38s %12.1f\n", "CRL build + sign + store (ms)", crl_ms);
  std::printf("%-38s %12zu\n", "CRL entries", entries);
  std::printf("%-38s %12zu\n", "CRL size (bytes)", state.der.size());
  nlohmann::json json = {{"benchmark", "ca_revocation"}, {"revoked_on_record", revoked},
                         {"revoke_ms", revoke_ms},       {"crl_build_ms", crl_ms},
                         {"crl_entries", entries},       {"crl_bytes", state.der.size()}};
  std::printf("%s\n", json.dump(2).c_str());
  pg.DropDatabase(database);
  return 0;
}
