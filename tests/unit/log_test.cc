#include "platform/log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "platform/actor.h"
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

// An act's line names its actor as the access log names a caller; "-" where there is none.
TEST(Log, AnActNamesItsActorAsTheAccessLogNamesACaller) {
  const Actor card = ActorOf({PrincipalKind::kOperator, "RSSMRA85T10A562S", "operators", "0c4d"},
                             "5092fa2333cd8761");
  const auto fields = ActorLogFields(card);
  auto parsed = nlohmann::json::parse(
      "{" + FormatEvent("revoked", std::span<const LogField>(fields.data(), fields.size())) + "}");
  EXPECT_EQ(parsed["caller_kind"], "operator");
  EXPECT_EQ(parsed["caller"], "RSSMRA85T10A562S");
  EXPECT_EQ(parsed["caller_serial"], "0c4d");
  EXPECT_EQ(parsed["call_id"], "5092fa2333cd8761");

  const Actor self = SystemActor("tessera-ca");
  const auto own = ActorLogFields(self);
  parsed = nlohmann::json::parse(
      "{" +
      FormatEvent("ocsp_responder_renewed", std::span<const LogField>(own.data(), own.size())) +
      "}");
  EXPECT_EQ(parsed["caller_kind"], "system");
  EXPECT_EQ(parsed["caller"], "tessera-ca");
  EXPECT_EQ(parsed["caller_serial"], "-");
  EXPECT_EQ(parsed["call_id"], "-");
  EXPECT_TRUE(CheckActor(self).ok());
  EXPECT_EQ(CheckActor(Actor{.kind = "service"}).code(), absl::StatusCode::kInvalidArgument);
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
