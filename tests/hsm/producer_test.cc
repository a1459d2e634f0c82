// One round of the daemon's work on SoftHSM cards, with the registry and the CA in memory:
// every claimed order ends produced (with its certificate's serial) or failed for good (with
// why), and a passing outage leaves the order for the next round.
#include "personalization/producer.h"

#include <botan/hex.h>
#include <botan/x509cert.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "absl/strings/str_format.h"
#include "tests/support/card_fakes.h"
#include "tests/support/test_hsm.h"

namespace tessera::personalization {
namespace {

using testing::TestSoftHsm;

class FakeRegistry final : public OrderSource {
 public:
  absl::StatusOr<ClaimedWork> Claim(int) override {
    ClaimedWork work;
    for (const CardToMake& card : cards) {
      if (!reported.contains(card.card_number)) work.cards.push_back(card);
    }
    for (const std::string& id : workstations) {
      if (!reported.contains(id)) work.workstations.push_back(id);
    }
    return work;
  }
  absl::StatusOr<std::vector<absl::Status>> Report(std::span<const Outcome> outcomes) override {
    for (const Outcome& o : outcomes) reported[o.order] = o;
    return std::vector<absl::Status>(outcomes.size());
  }
  std::vector<CardToMake> cards;
  std::vector<std::string> workstations;
  std::map<std::string, Outcome> reported;
};

// The software CA, refusing one codice fiscale for good and, once, answering nothing.
class PickyCa final : public CardCertifier {
 public:
  absl::StatusOr<std::vector<uint8_t>> Certify(const CardToMake& card,
                                               std::span<const uint8_t> request,
                                               int attempt) override {
    if (card.codice_fiscale == "RSSMRA85T10H501A") {
      return absl::InvalidArgumentError("subject.codice_fiscale: check character");
    }
    if (down_once) {
      down_once = false;
      return absl::UnavailableError("tessera-ca: connection refused");
    }
    return ca.Certify(card, request, attempt);
  }
  absl::Status Withdraw(const CardToMake& card, std::span<const uint8_t> certificate) override {
    return ca.Withdraw(card, certificate);
  }
  testing::SoftwareCardCa ca;
  bool down_once = false;
};

class FakeBundler final : public BundleIssuer {
 public:
  absl::StatusOr<std::string> IssueBundle(const WorkstationId& id) override {
    return absl::StrFormat("ab%s%04u", id.owner, id.progressive);
  }
};

TEST(Producer, EveryOrderEndsProducedOrFailedAndOutagesWait) {
  auto vault = TestSoftHsm::Get().CreateToken(TestSoftHsm::UniqueLabel("vault"));
  auto sealer = hsm::SecretSealer::Open(vault, "card-halves", /*create_if_missing=*/true);
  ASSERT_TRUE(sealer.ok());
  testing::MemoryCardJournal journal;
  PickyCa ca;
  FakeBundler bundler;
  CardMaker maker(TestSoftHsm::Get().module(), *sealer, journal, ca);
  FakeRegistry registry;
  const std::string base = "057001" + std::to_string(4000000000 + getpid() % 100000000);
  auto number = [&](int i) { return base.substr(0, 15) + std::to_string(i); };
  registry.cards = {{number(1), "RSSMRA85T10H501O", "Rossi", "Mario"},
                    {number(2), "RSSMRA85T10H501A", "Rossi", "Mario"},  // refused by the CA
                    {number(3), "BNCNNA90A41H501T", "Bianchi", "Anna"}};
  registry.workstations = {"0570010099", "0570010000"};  // the second is malformed
  ca.down_once = true;                                   // the first card meets an outage

  Producer producer(registry, maker, bundler);
  auto first = producer.RunOnce(10);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->produced, 2);  // card 3 and the server's bundle
  EXPECT_EQ(first->failed, 2);    // card 2 and the malformed workstation
  EXPECT_EQ(first->retried, 1);   // card 1 waits for the CA
  EXPECT_FALSE(registry.reported.contains(number(1)));
  EXPECT_EQ(registry.reported.at(number(2)).failure, "subject.codice_fiscale: check character");
  EXPECT_EQ(registry.reported.at("0570010099").certificate_serial, "ab0570010099");

  auto second = producer.RunOnce(10);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->produced, 1);
  const Outcome& made = registry.reported.at(number(1));
  EXPECT_TRUE(made.failure.empty());
  // The serial reported is the certificate's on the card, as tessera-ca writes serials.
  auto record = journal.Load(number(1));
  ASSERT_TRUE(record.ok() && record->has_value());
  std::string hex =
      Botan::hex_encode(Botan::X509_Certificate((*record)->certificate).serial_number(), false);
  hex.erase(0, std::min(hex.find_first_not_of('0'), hex.size() - 1));
  EXPECT_EQ(made.certificate_serial, hex);
  EXPECT_EQ(producer.RunOnce(10)->produced, 0);  // nothing left
}

}  // namespace
}  // namespace tessera::personalization
