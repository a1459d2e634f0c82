// Starts a tessera service binary as a real process with a config file, waits until it has
// written the port it bound, and stops it with SIGTERM (checking it exits cleanly).
#pragma once

#include <sys/types.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tessera::testing {

class ServiceProcess {
 public:
  // `binary` is a name in build/bin (e.g. "tessera-ca"); the config must set grpc.port_file
  // to `port_file`. It gets this process's environment, with `env` set over it.
  ServiceProcess(const std::string& binary, const std::string& config_path,
                 const std::string& port_file, const std::string& log_path,
                 const std::map<std::string, std::string>& env = {});
  ~ServiceProcess();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }  // -1 once stopped
  // SIGTERM, then the exit status (0 for a clean shutdown).
  int Stop();

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  int port_ = 0;
};

// The JSON lines of a service's log (log_path above) with event `event` and, if `field` is
// given, `field` equal to `value`; lines that are not JSON (a crash message) are skipped.
std::vector<nlohmann::json> LogEvents(const std::string& log_path, const std::string& event,
                                      const std::string& field = "", const std::string& value = "");

}  // namespace tessera::testing
