// A personalization station: one daemon's card readers, each a thread that takes one order at a
// time from the running batches (oldest batch first) and makes it (Producer), so a slow,
// failing or removed card holds up only its own reader. Each reader claims under its own
// worker name "<station>:reader-<n>": restarted, it gets back the order it held, whose token is
// still in its slot. Between two orders a reader looks at the batches again, so a pause or a
// cancel takes effect after the card under way. Every reader's state is written to the batch
// store soon after it changes and at least once a second (ReaderStatus) for WatchBatch; why a
// reader waits (a service unreachable) is part of it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "personalization/batches.h"
#include "personalization/producer.h"

namespace tessera::personalization {

struct StationOptions {
  std::string name;  // the same across restarts (perso.station)
  int readers = 1;
  std::chrono::milliseconds idle_wait{1000};   // nothing to do: look again after this
  std::chrono::milliseconds retry_wait{2000};  // a service unreachable: try again after this
  // A card call failed in the reader (IsReaderFailure): the card is taken again after this. A
  // reader's glitch passes in moments; waiting as long as for a service would cost a flaky line
  // most of its throughput (bench/perso --profiles).
  std::chrono::milliseconds card_retry_wait{250};
  std::chrono::milliseconds beat{1000};  // reader states are written at least this often, and
                                         // within 200 ms of a change
  // A card line: reader n works on the card in slot reader_slots[n] of the card module, and
  // waits for a card there before it takes an order. Empty: any slot (SoftHSM).
  std::vector<CK_SLOT_ID> reader_slots;
  std::chrono::milliseconds card_poll{50};  // how often an empty reader is looked at
  // A bound reader whose card fails with a device error this many rounds in a row is taken out
  // of service (it says so and takes no order; the order it holds goes to another reader when
  // its lease runs out): a broken reader must not keep a card waiting on it for ever.
  int reader_failures = 5;
};

// Whether a card step failed in the reader itself (the device, or the card pulled out), not
// in a service or in what was written on the card.
bool IsReaderFailure(const absl::Status& failure);

// The order source of one reader for one batch: tessera-registry's ClaimOrders within the
// batch's reach under the reader's worker name.
using OrderSources =
    std::function<std::unique_ptr<OrderSource>(const std::string& worker, const BatchReach&)>;

class Station {
 public:
  Station(StationOptions options, BatchStore& batches, OrderSources sources, CardMaker& cards,
          BundleIssuer& bundles, const Clock& clock);
  ~Station();  // Stop()
  Station(const Station&) = delete;
  Station& operator=(const Station&) = delete;

  void Start();
  // Each reader finishes the step under way, then stops; returns when all have.
  void Stop();

  // The readers' states now (also written to the store every beat).
  std::vector<ReaderStatus> Readers() const;

 private:
  void RunReader(int reader);
  // One order of the first running batch that has one: true if there was work.
  bool Work(int reader);
  void SetStatus(int reader, const std::function<void(ReaderStatus&)>& change);
  void WaitFor(std::chrono::milliseconds how_long);
  void BeatLoop();

  const StationOptions options_;
  BatchStore& batches_;
  OrderSources sources_;
  CardMaker& cards_;
  BundleIssuer& bundles_;
  const Clock& clock_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool changed_ = false;  // a reader's status changed since the last beat
  std::vector<ReaderStatus> status_;
  std::vector<int> failures_in_a_row_;       // per reader, device failures
  std::vector<std::string> out_of_service_;  // per reader, why ("" in service)
  std::vector<std::thread> threads_;
};

}  // namespace tessera::personalization
