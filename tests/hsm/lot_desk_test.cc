// The print confirmation destroys only the envelope file the lot desk itself wrote: a lot row
// pointing anywhere else (a tampered or mistaken row) is refused and that file left alone.
#include <gtest/gtest.h>

#include <filesystem>

#include "personalization/lots.h"
#include "personalization/token_archive.h"
#include "platform/files.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_hsm.h"

namespace tessera::personalization {
namespace {

class OneLot final : public LotStore {
 public:
  explicit OneLot(Lot lot) : lot_(std::move(lot)) {}
  absl::StatusOr<int> SealEndedBatches(Clock::TimePoint) override { return 0; }
  absl::StatusOr<std::vector<Lot>> LotsToPrint() override { return std::vector<Lot>{}; }
  absl::Status FilesWritten(const std::string&, const std::string&, const std::string&,
                            Clock::TimePoint) override {
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Lot>> Unprinted(int64_t) override {
    if (lot_.printed) return std::vector<Lot>{};
    return std::vector<Lot>{lot_};
  }
  absl::Status Printed(const std::string&, const BatchRequest&, Clock::TimePoint) override {
    lot_.printed = true;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Lot>> List(bool) override { return std::vector<Lot>{lot_}; }
  absl::StatusOr<Lot> Get(const std::string&) override { return lot_; }
  absl::Status HandOver(const std::string&, const std::string&, Clock::TimePoint) override {
    return absl::OkStatus();
  }
  absl::StatusOr<SealedHalves> MailHalvesFor(const std::string&, const BatchRequest&,
                                             Clock::TimePoint) override {
    return absl::NotFoundError("no card");
  }
  absl::StatusOr<std::map<std::string, std::string>> SealedLotsOf(
      const std::vector<std::string>&) override {
    return std::map<std::string, std::string>{};
  }
  Lot lot_;
};

TEST(LotDesk, ConfirmingThePrintDestroysOnlyTheEnvelopeFileItWrote) {
  auto vault = testing::TestSoftHsm::Get().CreateToken(testing::TestSoftHsm::UniqueLabel("vault"));
  auto sealer = hsm::SecretSealer::Open(vault, "card-halves", /*create_if_missing=*/true);
  ASSERT_TRUE(sealer.ok());
  testing::TempDir spool("tessera-spool");
  testing::TempDir elsewhere("tessera-elsewhere");
  SystemClock clock;
  const BatchRequest who{{.kind = "service", .name = "tessera-cli"}, "printed-1"};

  const std::string outside = elsewhere.File("precious.txt");
  ASSERT_TRUE(WriteFile(outside, "not a print file").ok());
  OneLot tampered({.number = "2026000001", .batch_id = 1, .envelopes_file = outside});
  LotDesk desk(tampered, *sealer, spool.path().string(), clock);
  auto refused = desk.ConfirmPrinted(1, who);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss) << refused.status();
  EXPECT_TRUE(std::filesystem::exists(outside));
  EXPECT_FALSE(tampered.lot_.printed);

  const std::string own = spool.File("lot-2026000002-envelopes.pdf");
  ASSERT_TRUE(WriteSecretFile(own, "%PDF halves").ok());
  OneLot lot({.number = "2026000002", .batch_id = 2, .envelopes_file = own});
  LotDesk own_desk(lot, *sealer, spool.path().string(), clock);
  auto confirmed = own_desk.ConfirmPrinted(2, who);
  ASSERT_TRUE(confirmed.ok()) << confirmed.status();
  EXPECT_EQ(*confirmed, std::vector<std::string>{"2026000002"});
  EXPECT_FALSE(std::filesystem::exists(own));
  EXPECT_TRUE(lot.lot_.printed);
}

// A daemon's shelf holds the tokens of the cards it made. When another daemon sealed their lot
// (it could not move them), this one moves them into the lot's directory of its own archive;
// cards in no sealed lot, and what is not a card (a copy under way), stay.
TEST(LotDesk, ShelvedCardsWhoseLotAnotherDaemonSealedMoveIntoTheLot) {
  testing::TempDir archive("tessera-archive");
  for (const char* name : {"0570010000000001", "0570010000000002", "0570010000000003.partial"}) {
    std::filesystem::create_directories(archive.path() / "produced" / name);
  }
  std::vector<std::string> asked;
  auto moved = ShelveSealedCards(
      archive.path().string(),
      [&asked](const std::vector<std::string>& cards)
          -> absl::StatusOr<std::map<std::string, std::string>> {
        asked = cards;
        return std::map<std::string, std::string>{{"0570010000000001", "2026000007"}};
      });
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(*moved, 1);
  EXPECT_EQ(asked.size(), 2u);  // the card numbers only
  EXPECT_TRUE(std::filesystem::exists(archive.path() / "lot-2026000007" / "0570010000000001"));
  EXPECT_FALSE(std::filesystem::exists(archive.path() / "produced" / "0570010000000001"));
  EXPECT_TRUE(std::filesystem::exists(archive.path() / "produced" / "0570010000000002"));
  EXPECT_TRUE(std::filesystem::exists(archive.path() / "produced" / "0570010000000003.partial"));
}

}  // namespace
}  // namespace tessera::personalization
