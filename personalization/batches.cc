#include "personalization/batches.h"

#include "absl/strings/str_cat.h"
#include "platform/request_id.h"
#include "platform/status_macros.h"

namespace tessera::personalization {
namespace {

bool AllDigits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

absl::Status CheckName(const std::string& name) {
  if (name.empty() || name.size() > 100) {
    return absl::InvalidArgumentError("name: 1 to 100 characters");
  }
  for (const char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("name: no control characters");
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view BatchStateName(BatchState state) {
  switch (state) {
    case BatchState::kCreated:
      return "created";
    case BatchState::kRunning:
      return "running";
    case BatchState::kPaused:
      return "paused";
    case BatchState::kCancelled:
      return "cancelled";
    case BatchState::kFinished:
      return "finished";
  }
  return "?";
}

std::optional<BatchState> BatchStateNamed(std::string_view name) {
  for (BatchState s : {BatchState::kCreated, BatchState::kRunning, BatchState::kPaused,
                       BatchState::kCancelled, BatchState::kFinished}) {
    if (BatchStateName(s) == name) return s;
  }
  return std::nullopt;
}

absl::Status CheckReach(const BatchReach& reach) {
  if (!reach.province_sigla.empty() && !reach.istat.empty()) {
    return absl::InvalidArgumentError("reach: a province_sigla or an istat, not both");
  }
  if (!reach.province_sigla.empty() &&
      (reach.province_sigla.size() != 2 ||
       reach.province_sigla.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos)) {
    return absl::InvalidArgumentError("reach.province_sigla: two capital letters, e.g. RI");
  }
  if (!reach.istat.empty() && (reach.istat.size() != 6 || !AllDigits(reach.istat))) {
    return absl::InvalidArgumentError("reach.istat: 6 digits");
  }
  if (reach.orders.size() > 1000) {
    return absl::InvalidArgumentError("reach.orders: at most 1000");
  }
  for (size_t i = 0; i < reach.orders.size(); ++i) {
    const std::string& o = reach.orders[i];
    if ((o.size() != 16 && o.size() != 10) || !AllDigits(o)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "reach.orders[", i, "]: a card number (16 digits) or a workstation common id (10)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<BatchStore::Created> Batches::Create(const std::string& name,
                                                    const BatchReach& reach,
                                                    const BatchRequest& request) {
  TESSERA_RETURN_IF_ERROR(CheckActor(request.actor));
  TESSERA_RETURN_IF_ERROR(CheckRequestId(request.request_id));
  TESSERA_RETURN_IF_ERROR(CheckName(name));
  TESSERA_RETURN_IF_ERROR(CheckReach(reach));
  TESSERA_ASSIGN_OR_RETURN(BatchStore::Created created,
                           store_.Create(name, reach, request, clock_.Now()));
  if (!created.repeated) {
    LogEvent(spdlog::level::info, "batch_created",
             {{"batch", std::to_string(created.batch.id)}, {"name", name}},
             ActorLogFields(request.actor));
  }
  return created;
}

absl::StatusOr<Batch> Batches::Change(int64_t id, BatchAction action, const BatchRequest& request) {
  TESSERA_RETURN_IF_ERROR(CheckActor(request.actor));
  TESSERA_RETURN_IF_ERROR(CheckRequestId(request.request_id));
  std::vector<BatchState> from;
  BatchState to = BatchState::kRunning;
  switch (action) {
    case BatchAction::kRun:
      from = {BatchState::kCreated, BatchState::kPaused};
      break;
    case BatchAction::kPause:
      from = {BatchState::kRunning};
      to = BatchState::kPaused;
      break;
    case BatchAction::kCancel:
      from = {BatchState::kCreated, BatchState::kRunning, BatchState::kPaused};
      to = BatchState::kCancelled;
      break;
  }
  TESSERA_RETURN_IF_ERROR(store_.ChangeState(id, from, to, action, request, clock_.Now()));
  LogEvent(spdlog::level::info, "batch_changed",
           {{"batch", std::to_string(id)}, {"state", std::string(BatchStateName(to))}},
           ActorLogFields(request.actor));
  return Get(id);
}

absl::StatusOr<Batch> Batches::Get(int64_t id) {
  const Clock::TimePoint now = clock_.Now();
  return store_.Get(id, now - kReaderSilence, now);
}

}  // namespace tessera::personalization
