#include "platform/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace tessera {
namespace {

constexpr char kToml[] = R"(
[grpc]
listen = "127.0.0.1:0"
workers = 4
[hsm]
strict = true
)";

TEST(Config, ReadsTypedValuesByDottedKey) {
  auto config = Config::Parse(kToml, "test.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(*config->String("grpc.listen"), "127.0.0.1:0");
  EXPECT_EQ(*config->Int("grpc.workers"), 4);
  EXPECT_TRUE(*config->Bool("hsm.strict"));
  EXPECT_TRUE(config->Has("grpc.listen"));
  EXPECT_FALSE(config->Has("grpc.nothing"));
}

TEST(Config, MissingAndMistypedKeysNameTheKey) {
  auto config = Config::Parse(kToml, "test.toml");
  ASSERT_TRUE(config.ok());
  auto missing = config->String("db.conninfo");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "test.toml: db.conninfo is required");
  auto mistyped = config->Int("grpc.listen");
  EXPECT_EQ(mistyped.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(mistyped.status().message(), "test.toml: grpc.listen must be an integer");
  // A fallback covers a missing key, never a wrong type.
  EXPECT_EQ(*config->IntOr("grpc.missing", 7), 7);
  EXPECT_FALSE(config->IntOr("grpc.listen", 7).ok());
  EXPECT_EQ(*config->StringOr("x.y", "d"), "d");
}

TEST(Config, EnvironmentOverridesTheFile) {
  auto config = Config::Parse(kToml, "test.toml");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(Config::EnvName("grpc.listen"), "TESSERA_GRPC_LISTEN");
  setenv("TESSERA_GRPC_LISTEN", "0.0.0.0:9443", 1);
  setenv("TESSERA_GRPC_WORKERS", "eight", 1);
  EXPECT_EQ(*config->String("grpc.listen"), "0.0.0.0:9443");
  EXPECT_EQ(config->Int("grpc.workers").status().message(),
            "TESSERA_GRPC_WORKERS must be an integer");
  unsetenv("TESSERA_GRPC_LISTEN");
  unsetenv("TESSERA_GRPC_WORKERS");
  EXPECT_EQ(*config->String("grpc.listen"), "127.0.0.1:0");
}

TEST(Config, SyntaxErrorsSayWhere) {
  auto config = Config::Parse("[grpc\nlisten = 1", "bad.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(config.status().message()).find("bad.toml:"), std::string::npos);
}

}  // namespace
}  // namespace tessera
