// The audit chain's walk: a chain as written verifies; an edited, deleted, reordered or
// duplicated record, a rewritten tail (fresh hashes), a truncated end and a forged anchor are
// each named at the first broken link.
#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <gtest/gtest.h>

#include "audit/chain.h"

namespace tessera::audit {
namespace {

using std::chrono::system_clock;

class AuditChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 1; i <= 20; ++i) {
      AuditRecord next{.actor = "person:RSSMRA85T10H501O",
                       .workstation = "q8nF3pM2c4C3uQ7Wv6x1r0yZ5kT9aB8dE7fG6hI5jK4",
                       .action = "census.submit",
                       .before = "census 057012 rev " + std::to_string(i - 1),
                       .after = "census 057012 rev " + std::to_string(i),
                       .request_id = "req-" + std::to_string(i),
                       .at = start_ + std::chrono::seconds(i)};
      records_.push_back(Chain(next, records_.empty() ? nullptr : &records_.back()));
      if (i % 10 == 0) Anchor(records_.back());
    }
  }
  void Anchor(const AuditRecord& head) {
    auto anchor = SignAnchor("tessera-registry", head, head.at, key_);
    ASSERT_TRUE(anchor.ok()) << anchor.status();
    anchors_.push_back(*anchor);
  }
  std::string FirstBreak() const {
    return VerifyChain("tessera-registry", records_, anchors_, key_).first_break;
  }
  // Records from `from` (1-based) on chained again with fresh hashes: what an attacker with
  // the database but not the anchor key can do after changing one.
  void Rechain(size_t from) {
    for (size_t i = from - 1; i < records_.size(); ++i) {
      records_[i] = Chain(records_[i], i == 0 ? nullptr : &records_[i - 1]);
    }
  }

  Botan::AutoSeeded_RNG rng_;
  Botan::ECDSA_PrivateKey key_{rng_, Botan::EC_Group("secp256r1")};
  system_clock::time_point start_ = std::chrono::floor<std::chrono::seconds>(system_clock::now());
  std::vector<AuditRecord> records_;
  std::vector<audit::Anchor> anchors_;
};

TEST_F(AuditChainTest, AChainAsWrittenHolds) {
  const ChainReport report = VerifyChain("tessera-registry", records_, anchors_, key_);
  EXPECT_TRUE(report.ok()) << report.first_break;
  EXPECT_EQ(report.records, 20);
  EXPECT_EQ(report.anchors, 2);
  EXPECT_EQ(records_[0].previous_hash, kGenesis);
}

TEST_F(AuditChainTest, AnEditedRecordIsNamed) {
  records_[6].after = "census 057012 rev 99";
  EXPECT_EQ(FirstBreak(), "record 7: its content does not match its hash (edited)");
}

TEST_F(AuditChainTest, AnEditedRecordWithAFreshHashBreaksTheNextLink) {
  records_[6].actor = "person:BNCGLI70A41H501X";
  records_[6].hash = RecordHash(records_[6]);
  EXPECT_EQ(FirstBreak(), "record 8 does not follow record 7 (one of them was changed)");
}

TEST_F(AuditChainTest, ADeletedRecordIsNamed) {
  records_.erase(records_.begin() + 6);
  EXPECT_EQ(FirstBreak(), "record 7 is missing (the chain goes from 6 to 8)");
}

TEST_F(AuditChainTest, ReorderedOrDuplicatedRecordsAreNamed) {
  const std::vector<AuditRecord> written = records_;
  std::swap(records_[6], records_[7]);  // read in another order
  EXPECT_EQ(FirstBreak(), "record 7 is missing (the chain goes from 6 to 8)");
  records_ = written;
  std::swap(records_[6].sequence, records_[7].sequence);  // their numbers swapped …
  std::swap(records_[6], records_[7]);                    // … and read by number
  EXPECT_EQ(FirstBreak(), "record 7 does not follow record 6 (one of them was changed)");
  records_ = written;
  records_.insert(records_.begin() + 8, records_[7]);  // one twice
  EXPECT_EQ(FirstBreak(),
            "record 8 appears again after record 8 (records reordered or duplicated)");
}

TEST_F(AuditChainTest, ATailRewrittenWithFreshHashesFailsAtTheNextAnchor) {
  records_[4].after = "census 057012 rev 99";
  Rechain(5);
  EXPECT_EQ(FirstBreak(),
            "anchor at record 10: the chain's hash there is not the one signed (records before it "
            "were rewritten)");
}

TEST_F(AuditChainTest, RecordsCutFromTheEndAreCaughtByTheLastAnchor) {
  records_.resize(17);
  EXPECT_EQ(FirstBreak(),
            "anchor at record 20: the chain ends at record 17 (records deleted from its end)");
}

TEST_F(AuditChainTest, AForgedAnchorIsNamed) {
  records_[4].after = "census 057012 rev 99";
  Rechain(5);
  anchors_[0].hash = records_[9].hash;  // the anchor's hash changed without the key
  EXPECT_EQ(FirstBreak(), "anchor at record 10: its signature does not verify (a forged anchor)");
}

}  // namespace
}  // namespace tessera::audit
