// The orders a submitted census (or the Ministry) places, as personalization daemons claim
// them: card orders for persons and workstation orders for certificates.
#pragma once

#include <chrono>
#include <cstdint>
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
};

struct WorkstationOrder {
  std::string owner;  // ISTAT code (a prefettura: province code + "000")
  int progressive = 0;
  int64_t census_id = 0;
  std::string ordered_by;  // owner of the census that ordered it

  std::string CommonId() const;  // owner + 4-digit progressive, the certificate's CN
};

class OrderQueue {
 public:
  virtual ~OrderQueue() = default;
  // Up to `limit` orders claimed for `worker` until now + `lease`, without two workers ever
  // holding one order: first those `worker` already holds (a restarted daemon resumes them),
  // then unclaimed ones and ones whose lease ran out (their daemon died), oldest first.
  // Returned by card number / common id.
  virtual absl::StatusOr<std::vector<CardOrder>> ClaimCardOrders(
      const std::string& worker, int limit, std::chrono::seconds lease,
      std::chrono::system_clock::time_point now) = 0;
  virtual absl::StatusOr<std::vector<WorkstationOrder>> ClaimWorkstationOrders(
      const std::string& worker, int limit, std::chrono::seconds lease,
      std::chrono::system_clock::time_point now) = 0;
};

}  // namespace tessera::registry
