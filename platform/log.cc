#include "platform/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <cstdio>

namespace tessera {
namespace {

void AppendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

std::string FormatEvent(std::string_view event, std::span<const LogField> fields) {
  std::string out = "\"event\":";
  AppendJsonString(out, event);
  for (const auto& [key, value] : fields) {
    out.push_back(',');
    AppendJsonString(out, key);
    out.push_back(':');
    AppendJsonString(out, value);
  }
  return out;
}

void LogEvent(spdlog::level::level_enum level, std::string_view event,
              std::initializer_list<LogField> fields, std::span<const LogField> more) {
  std::vector<LogField> all(fields);
  all.insert(all.end(), more.begin(), more.end());
  spdlog::log(level, "{}", FormatEvent(event, std::span<const LogField>(all)));
}

absl::Status InitLogging(const std::string& service, const std::string& level) {
  if (level != "debug" && level != "info" && level != "warn" && level != "error") {
    return absl::InvalidArgumentError("log.level: must be debug, info, warn or error, not '" +
                                      level + "'");
  }
  auto logger = spdlog::stderr_logger_mt(service);
  // Lines come from LogEvent, whose message is already a list of JSON members.
  logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","service":"%n",%v})",
                      spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return absl::OkStatus();
}

}  // namespace tessera
