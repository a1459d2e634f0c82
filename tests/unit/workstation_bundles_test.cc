// A workstation's common id, as orders carry it and tessera-ca's bundle request needs it.
#include "personalization/workstation_bundles.h"

#include <gtest/gtest.h>

namespace tessera::personalization {
namespace {

TEST(WorkstationBundles, ACommonIdIsAnOfficeAndAProgressive) {
  auto server = ParseCommonId("0570010099");
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(server->owner, "057001");
  EXPECT_EQ(server->progressive, 99u);
  auto prefettura = ParseCommonId("0570000001");
  ASSERT_TRUE(prefettura.ok());
  EXPECT_EQ(prefettura->owner, "057000");
  EXPECT_EQ(prefettura->progressive, 1u);
  for (const char* bad : {"", "057001009", "05700100990", "057001009a", "0570010000"}) {
    EXPECT_EQ(ParseCommonId(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace tessera::personalization
