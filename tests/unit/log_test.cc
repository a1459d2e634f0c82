#include "platform/log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "platform/secret.h"

namespace tessera {
namespace {

TEST(Log, EventsAreJsonMembersWithEscaping) {
  std::string members = FormatEvent("rpc_denied", {{"method", "/a.B/C"}, {"why", "say \"no\"\n"}});
  auto parsed = nlohmann::json::parse("{" + members + "}");
  EXPECT_EQ(parsed["event"], "rpc_denied");
  EXPECT_EQ(parsed["method"], "/a.B/C");
  EXPECT_EQ(parsed["why"], "say \"no\"\n");
}

TEST(Log, AnUnknownLevelIsRefused) {
  absl::Status status = InitLogging("test", "verbose");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "log.level: must be debug, info, warn or error, not 'verbose'");
}

TEST(Secret, NeverPrintsItsValue) {
  Secret pin("4721");
  std::ostringstream out;
  out << "pin=" << pin;
  EXPECT_EQ(out.str(), "pin=***");
  EXPECT_EQ(pin.view(), "4721");
}

}  // namespace
}  // namespace tessera
