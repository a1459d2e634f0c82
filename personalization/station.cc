#include "personalization/station.h"

#include "absl/strings/str_cat.h"
#include "platform/log.h"

namespace tessera::personalization {

Station::Station(StationOptions options, BatchStore& batches, OrderSources sources,
                 CardMaker& cards, BundleIssuer& bundles, const Clock& clock)
    : options_(std::move(options)),
      batches_(batches),
      sources_(std::move(sources)),
      cards_(cards),
      bundles_(bundles),
      clock_(clock) {
  for (int i = 0; i < options_.readers; ++i) {
    status_.push_back({.station = options_.name, .reader = i});
  }
  failures_in_a_row_.assign(static_cast<size_t>(options_.readers), 0);
  out_of_service_.assign(static_cast<size_t>(options_.readers), "");
}

bool IsReaderFailure(const absl::Status& failure) {
  const std::string message(failure.message());
  return message.find("CKR_DEVICE_ERROR") != std::string::npos ||
         message.find("CKR_DEVICE_REMOVED") != std::string::npos ||
         message.find("CKR_TOKEN_NOT_PRESENT") != std::string::npos;
}

Station::~Station() { Stop(); }

void Station::Start() {
  for (int i = 0; i < options_.readers; ++i) threads_.emplace_back([this, i] { RunReader(i); });
  threads_.emplace_back([this] { BeatLoop(); });
}

void Station::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

std::vector<ReaderStatus> Station::Readers() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void Station::SetStatus(int reader, const std::function<void(ReaderStatus&)>& change) {
  {
    std::lock_guard lock(mutex_);
    change(status_[static_cast<size_t>(reader)]);
    changed_ = true;
  }
  wake_.notify_all();
}

void Station::WaitFor(std::chrono::milliseconds how_long) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, how_long, [this] { return stopping_; });
}

void Station::RunReader(int reader) {
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    if (!Work(reader)) WaitFor(options_.idle_wait);
  }
}

bool Station::Work(int reader) {
  const std::string worker = absl::StrCat(options_.name, ":reader-", reader);
  auto waiting = [&](int64_t batch_id, const std::string& why, std::chrono::milliseconds how_long) {
    SetStatus(reader, [&](ReaderStatus& s) {
      s.batch_id = batch_id;
      s.waiting_for = why;
    });
    LogEvent(spdlog::level::warn, "reader_waiting",
             {{"reader", worker}, {"batch", std::to_string(batch_id)}, {"why", why}});
    WaitFor(how_long);
    return true;
  };

  // A bound reader that cannot take an order says why (once, not at every look) and waits.
  auto stay = [&](const std::string& why, std::chrono::milliseconds how_long) {
    if (Readers()[static_cast<size_t>(reader)].waiting_for != why) {
      SetStatus(reader, [&](ReaderStatus& s) {
        s.card_number.clear();
        s.step.clear();
        s.waiting_for = why;
      });
    }
    WaitFor(how_long);
    return true;
  };
  std::optional<CK_SLOT_ID> slot;
  if (!options_.reader_slots.empty()) {
    slot = options_.reader_slots[static_cast<size_t>(reader)];
    if (const std::string& why = out_of_service_[static_cast<size_t>(reader)]; !why.empty()) {
      return stay(why, options_.idle_wait);
    }
    if (!cards_.HasCard(*slot)) {
      // Between two cards (the feeder's, or an operator's hand): no order is taken meanwhile.
      return stay(absl::StrCat("a card in reader slot ", *slot), options_.card_poll);
    }
  }

  absl::StatusOr<std::vector<Batch>> running = batches_.Running();
  if (!running.ok()) {
    return waiting(0, absl::StrCat("database: ", running.status().message()), options_.retry_wait);
  }
  int64_t unclaimed = 0;
  std::string why_unclaimed;
  for (const Batch& batch : *running) {
    std::unique_ptr<OrderSource> source = sources_(worker, batch.reach);
    RoundHooks hooks{
        .on_step =
            [&](const std::string& order, std::string_view step) {
              SetStatus(reader, [&](ReaderStatus& s) {
                if (s.card_number != order) s.card_since = clock_.Now();
                s.batch_id = batch.id;
                s.card_number = order;
                s.step = step;
                s.waiting_for.clear();
              });
            },
        .record =
            [&](const Outcome& outcome, const CardToMake* card) {
              OrderResult result{.batch_id = batch.id,
                                 .card = outcome.card,
                                 .order = outcome.order,
                                 .certificate_serial = outcome.certificate_serial,
                                 .failure = outcome.failure};
              if (card != nullptr) {
                result.codice_fiscale = card->codice_fiscale;
                result.surname = card->surname;
                result.name = card->name;
                result.office = card->office;
                result.office_name = card->office_name;
                result.province_sigla = card->province_sigla;
              }
              return batches_.RecordResult(result, clock_.Now());
            },
    };
    Producer producer(*source, cards_, bundles_, std::move(hooks), slot);
    absl::StatusOr<RoundReport> round = producer.RunOnce(1);
    if (!round.ok()) {
      // The registry refuses this batch's reach, or cannot be reached: said on the reader's
      // line; the other batches still get their turn.
      unclaimed = batch.id;
      why_unclaimed = std::string(round.status().message());
      continue;
    }
    for (const absl::Status& refused : round->unreported) {
      LogEvent(spdlog::level::err, "outcome_refused",
               {{"reader", worker},
                {"batch", std::to_string(batch.id)},
                {"error", std::string(refused.message())}});
    }
    for (const Outcome& o : round->outcomes) {
      LogEvent(o.failure.empty() ? spdlog::level::info : spdlog::level::warn,
               o.card ? "card_done" : "workstation_done",
               {{"reader", worker},
                {"batch", std::to_string(batch.id)},
                {"order", o.order},
                {"serial", o.certificate_serial},
                {"failure", o.failure}});
    }
    if (round->open_orders >= 0) {
      if (absl::Status s = batches_.RecordOpenOrders(batch.id, round->open_orders, clock_.Now());
          !s.ok()) {
        return waiting(batch.id, absl::StrCat("database: ", s.message()), options_.retry_wait);
      }
    }
    SetStatus(reader, [&](ReaderStatus& s) {
      s.card_number.clear();
      s.step.clear();
    });
    int& in_a_row = failures_in_a_row_[static_cast<size_t>(reader)];
    in_a_row = round->retried > 0 && IsReaderFailure(round->retry_reason) ? in_a_row + 1 : 0;
    if (slot && in_a_row >= options_.reader_failures) {
      out_of_service_[static_cast<size_t>(reader)] = absl::StrCat(
          "out of service: its card failed ", in_a_row, " times in a row in reader slot ", *slot,
          " (", round->retry_reason.message(), "); mend the reader and restart the daemon");
      LogEvent(spdlog::level::err, "reader_out_of_service",
               {{"reader", worker},
                {"slot", std::to_string(*slot)},
                {"error", std::string(round->retry_reason.message())}});
      return true;
    }
    if (round->retried > 0) {
      // The order stays claimed by this reader: the next round takes it again first.
      return waiting(
          batch.id, std::string(round->retry_reason.message()),
          IsReaderFailure(round->retry_reason) ? options_.card_retry_wait : options_.retry_wait);
    }
    SetStatus(reader, [](ReaderStatus& s) { s.waiting_for.clear(); });
    if (!round->outcomes.empty()) return true;
  }
  if (unclaimed != 0) return waiting(unclaimed, why_unclaimed, options_.retry_wait);
  SetStatus(reader, [](ReaderStatus& s) { s = {.station = s.station, .reader = s.reader}; });
  return false;
}

void Station::BeatLoop() {
  for (;;) {
    for (ReaderStatus status : Readers()) {
      status.beat_at = clock_.Now();
      if (absl::Status s = batches_.Beat(status); !s.ok()) {
        LogEvent(spdlog::level::warn, "reader_beat_failed", {{"error", std::string(s.message())}});
        break;
      }
    }
    // At most every 200 ms, at least every beat: a watcher sees a reader start a card.
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stopping_; })) return;
    if (wake_.wait_for(lock, options_.beat, [this] { return stopping_ || changed_; }) &&
        stopping_) {
      return;
    }
    changed_ = false;
  }
}

}  // namespace tessera::personalization
