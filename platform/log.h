// Structured logging on spdlog: one JSON object per line on stderr, so logs can be searched
// by field. Events carry a name and key/value fields; secrets never go in (see secret.h).
#pragma once

#include <spdlog/spdlog.h>

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace tessera {

// Sets the default logger for a process: `service` names it, `level` is "debug", "info",
// "warn" or "error" (anything else is refused, so a typo cannot silence the log).
absl::Status InitLogging(const std::string& service, const std::string& level = "info");

using LogField = std::pair<std::string_view, std::string_view>;

// {"event":"<event>","key":"value",...} as the message of one log line.
std::string FormatEvent(std::string_view event, std::span<const LogField> fields);
inline std::string FormatEvent(std::string_view event, std::initializer_list<LogField> fields) {
  return FormatEvent(event, std::span<const LogField>(fields.begin(), fields.size()));
}

inline void LogEvent(spdlog::level::level_enum level, std::string_view event,
                     std::initializer_list<LogField> fields = {}) {
  spdlog::log(level, "{}", FormatEvent(event, fields));
}

// The same with more fields after `fields` (e.g. who did it: actor.h's ActorLogFields).
void LogEvent(spdlog::level::level_enum level, std::string_view event,
              std::initializer_list<LogField> fields, std::span<const LogField> more);

}  // namespace tessera
