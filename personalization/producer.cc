#include "personalization/producer.h"

#include <botan/x509cert.h>

#include "platform/log.h"
#include "platform/principal.h"
#include "platform/status_macros.h"

namespace tessera::personalization {
namespace {

// The serial of a certificate as tessera-ca names it.
std::string SerialOf(const std::vector<uint8_t>& der) {
  return SerialHex(Botan::X509_Certificate(der).serial_number());
}

}  // namespace

bool IsFinal(const absl::Status& failure) {
  switch (failure.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kOutOfRange:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<RoundReport> Producer::RunOnce(int limit) {
  TESSERA_ASSIGN_OR_RETURN(ClaimedWork work, orders_.Claim(limit));
  RoundReport report{.open_orders = work.open_orders};
  std::vector<Outcome>& outcomes = report.outcomes;
  auto retry = [&](absl::Status why) {
    ++report.retried;
    report.retry_reason = std::move(why);
  };
  auto settle = [&](const CardToMake* card, const std::string& order,
                    absl::StatusOr<std::string> serial) {
    Outcome outcome{card != nullptr, order, "", ""};
    if (serial.ok()) {
      outcome.certificate_serial = *serial;
    } else if (IsFinal(serial.status())) {
      outcome.failure = std::string(serial.status().message()).substr(0, 500);
    } else {
      return retry(serial.status());
    }
    if (hooks_.record) {
      if (absl::Status recorded = hooks_.record(outcome, card); !recorded.ok()) {
        return retry(recorded);
      }
    }
    ++(serial.ok() ? report.produced : report.failed);
    outcomes.push_back(std::move(outcome));
  };
  for (const CardToMake& card : work.cards) {
    absl::StatusOr<CardRecord> made = cards_.Make(
        card,
        [&](CardStep step) {
          if (hooks_.on_step) hooks_.on_step(card.card_number, CardStepName(step));
        },
        reader_slot_);
    if (!made.ok() && IsFinal(made.status())) {
      // Failed for good: its certificate, if one was issued, is withdrawn before the order is
      // reported failed (or the card waits for the next round).
      if (absl::Status abandoned = cards_.Abandon(card); !abandoned.ok()) {
        retry(abandoned);
        continue;
      }
    }
    const size_t settled = outcomes.size();
    settle(&card, card.card_number,
           made.ok() ? absl::StatusOr<std::string>(SerialOf(made->certificate)) : made.status());
    if (outcomes.size() > settled) {
      // Its outcome is recorded: the card leaves the reader for the next blank one, or its
      // token the live store. That cannot undo anything; a failure leaves the card where it is.
      if (absl::Status released = cards_.Release(card, reader_slot_, made.ok()); !released.ok()) {
        LogEvent(spdlog::level::warn, "card_not_released",
                 {{"card", card.card_number}, {"error", std::string(released.message())}});
      }
    }
  }
  for (const std::string& common_id : work.workstations) {
    if (hooks_.on_step) hooks_.on_step(common_id, "bundle");
    absl::StatusOr<WorkstationId> id = ParseCommonId(common_id);
    settle(nullptr, common_id, id.ok() ? bundles_.IssueBundle(*id) : id.status());
  }
  if (outcomes.empty()) return report;
  TESSERA_ASSIGN_OR_RETURN(std::vector<absl::Status> reported, orders_.Report(outcomes));
  for (absl::Status& status : reported) {
    if (!status.ok()) report.unreported.push_back(std::move(status));
  }
  return report;
}

}  // namespace tessera::personalization
