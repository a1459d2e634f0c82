// tessera-ca's settings: defaults, and every limit refused naming its key.
#include <gtest/gtest.h>

#include "ca/settings.h"

namespace tessera::ca {
namespace {

constexpr char kRequired[] = R"(
[db]
conninfo = "dbname=tessera"
[hsm]
module = "/usr/lib/softhsm/libsofthsm2.so"
token = "tessera-ca"
[ca]
issuers = "operators, workstations"
root_certificate = "/etc/tessera/pki/root.pem"
profiles = "/etc/tessera/profiles.toml"
base_url = "http://ca.example"
[http]
listen = "127.0.0.1:8080"
)";

absl::StatusOr<CaSettings> Read(const std::string& extra) {
  auto config = Config::Parse(std::string(kRequired) + extra, "test.toml");
  if (!config.ok()) return config.status();
  return ReadCaSettings(*config);
}

TEST(CaSettings, DefaultsAndDerivedPaths) {
  auto s = Read("");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->issuers, (std::vector<std::string>{"operators", "workstations"}));
  EXPECT_EQ(s->root_crl_path, "/etc/tessera/pki/root.crl");
  EXPECT_EQ(s->ceremony_certificates_path, "/etc/tessera/pki/issued.pem");
  EXPECT_EQ(s->http.host, "127.0.0.1");
  EXPECT_EQ(s->http.port, 8080);
  EXPECT_EQ(s->http.db_wait, std::chrono::milliseconds(250));
  EXPECT_EQ(s->crl.validity, std::chrono::hours(24));
  EXPECT_EQ(s->crl.refresh_before, std::chrono::hours(12));
  EXPECT_EQ(s->ocsp.validity, std::chrono::hours(1));
  EXPECT_EQ(s->ocsp_renewal.renew_before, std::chrono::hours(24 * 10));
}

TEST(CaSettings, EveryLimitNamesItsKey) {
  const std::pair<const char*, const char*> cases[] = {
      {"[crl]\nvalidity_hours = 12\nrefresh_hours = 12\n", "crl.refresh_hours"},
      {"[crl]\nvalidity_hours = 1000\n", "crl.refresh_hours"},
      {"[ocsp]\nvalidity_hours = 200\n", "ocsp.validity_hours: 1 to 168"},
      {"[ocsp]\nworkers = 0\n", "ocsp.workers: 1 to 64"},
      {"[ocsp]\ncache_entries = 10\n", "ocsp.cache_entries"},
      {"[ocsp]\nrenew_before_days = 0\n", "ocsp.renew_before_days"},
  };
  for (const auto& [extra, key] : cases) {
    auto s = Read(extra);
    ASSERT_FALSE(s.ok()) << extra;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(s.status().message()).find(key), std::string::npos) << s.status();
  }
  auto bad_listen =
      Config::Parse(std::string(kRequired).replace(std::string(kRequired).find("127.0.0.1:8080"),
                                                   14, "127.0.0.1"),
                    "t");
  ASSERT_TRUE(bad_listen.ok());
  EXPECT_NE(std::string(ReadCaSettings(*bad_listen).status().message()).find("http.listen"),
            std::string::npos);
  // Keys of tables the required part has already: set in place.
  const std::pair<const char*, const char*> in_place[] = {
      {"threads = 0", "http.threads: 1 to 64"},
      {"nice = 20", "http.nice: 0 to 19"},
      {"max_connections = 0", "http.max_connections: 1 to"},
      {"connection_memory_bytes = 10", "http.connection_memory_bytes"},
      {"listen_backlog = 70000", "http.listen_backlog"}};
  for (const auto& [line, key] : in_place) {
    std::string text = kRequired;
    text.replace(text.find("listen = "), 0, std::string(line) + "\n");
    auto config = Config::Parse(text, "t");
    ASSERT_TRUE(config.ok()) << config.status();
    auto s = ReadCaSettings(*config);
    ASSERT_FALSE(s.ok()) << line;
    EXPECT_NE(std::string(s.status().message()).find(key), std::string::npos) << s.status();
  }
  std::string pool = kRequired;
  pool.replace(pool.find("conninfo"), 0, "max_connections = 0\n");
  auto config = Config::Parse(pool, "t");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_NE(std::string(ReadCaSettings(*config).status().message()).find("db.max_connections"),
            std::string::npos);
}

}  // namespace
}  // namespace tessera::ca
