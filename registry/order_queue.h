// The orders a submitted census (or the Ministry) places, as personalization daemons claim
// them: card orders for persons and workstation orders for certificates.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::registry {

// The orderer a Ministry card order names (CardOrder::ordered_by).
inline constexpr char kMinistryOrderer[] = "ministero";

struct CardOrder {
  // 16 digits: the ordering comune's ISTAT code (a prefettura: province code + "000"; the
  // Ministry: "000000") + a 10-digit progressive
  std::string card_number;
  std::string codice_fiscale;  // the person's code as first recorded
  int64_t census_id = 0;       // 0 for a Ministry order
  std::string surname, name;   // the holder, as the card's face prints them
  std::string ordered_by;      // owner of the census that ordered it, or kMinistryOrderer
  // The orderer as envelopes and lots print it: "ACCUMOLI (RI)", "PREFETTURA DI RIETI",
  // "MINISTERO DELL'INTERNO"; and the sigla of its province, whose prefettura receives its
  // cards (empty for the Ministry's).
  std::string office_name;
  std::string province_sigla;
};

struct WorkstationOrder {
  std::string owner;  // ISTAT code (a prefettura: province code + "000")
  int progressive = 0;
  int64_t census_id = 0;
  std::string ordered_by;  // owner of the census that ordered it

  std::string CommonId() const;  // owner + 4-digit progressive, the certificate's CN
};

// Which orders a claim may take (a batch's reach): those whose card number or workstation
// common id starts with `prefix` (a province's 3-digit code, an office's 6 digits; empty: any)
// and, if `orders` is not empty, only those listed.
struct ClaimScope {
  std::string prefix;
  std::vector<std::string> orders;  // card numbers and workstation common ids
};

// What personalization made of one order it holds.
struct OrderOutcome {
  enum class Kind { kCard, kWorkstation };
  Kind kind = Kind::kCard;
  std::string order;  // a card number, or a workstation's common id (WorkstationOrder::CommonId)
  // Produced: the certificate on the card or in the bundle (lower-case hex); else empty.
  std::string certificate_serial;
  // Failed for good (the daemon's own retries are over): why; else empty.
  std::string failure;
};

class OrderQueue {
 public:
  virtual ~OrderQueue() = default;
  // Up to `limit` orders claimed for `worker` until now + `lease`, without two workers ever
  // holding one order: first those `worker` already holds (a restarted daemon resumes them),
  // then unclaimed ones and ones whose lease ran out (their daemon died), oldest first.
  // Only orders within `scope`. Returned by card number / common id.
  virtual absl::StatusOr<std::vector<CardOrder>> ClaimCardOrders(
      const std::string& worker, int limit, std::chrono::seconds lease,
      std::chrono::system_clock::time_point now, const ClaimScope& scope) = 0;
  virtual absl::StatusOr<std::vector<WorkstationOrder>> ClaimWorkstationOrders(
      const std::string& worker, int limit, std::chrono::seconds lease,
      std::chrono::system_clock::time_point now, const ClaimScope& scope) = 0;

  // How many orders within `scope` are still open (LAVORAZIONE; a card's order not ended),
  // claimed or not, cards and workstations together: 0 means a batch of that reach is done.
  virtual absl::StatusOr<int64_t> CountOpenOrders(const ClaimScope& scope) = 0;

  // Records each outcome reported by `worker`, which must hold the order's claim: produced
  // (state PRODOTTA, its certificate serial) or failed (FALLITA, why; a failed card order
  // ends, so its person may be given a new card). One result per outcome, in order: true if it
  // was recorded before (a retry), NOT_FOUND for an unknown order, FAILED_PRECONDITION for an
  // order another worker holds (this one's lease ran out) or one with another outcome already,
  // ALREADY_EXISTS for a serial recorded on another order.
  virtual std::vector<absl::StatusOr<bool>> Report(const std::string& worker,
                                                   std::span<const OrderOutcome> outcomes,
                                                   std::chrono::system_clock::time_point now) = 0;
};

}  // namespace tessera::registry
