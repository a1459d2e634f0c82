#include "tests/support/service_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace tessera::testing {

ServiceProcess::ServiceProcess(const std::string& binary, const std::string& config_path,
                               const std::string& port_file, const std::string& log_path,
                               const std::map<std::string, std::string>& env) {
  log_path_ = log_path;
  const std::string path = std::string(TESSERA_BIN_DIR) + "/" + binary;
  // A port file an earlier process left would be read as this one's port.
  std::filesystem::remove(port_file);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<std::string> args = {path, "--config", config_path};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> variables;
  for (char** v = environ; *v != nullptr; ++v) {
    const std::string variable = *v;
    if (!env.contains(variable.substr(0, variable.find('=')))) variables.push_back(variable);
  }
  for (const auto& [name, value] : env) variables.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (std::string& variable : variables) envp.push_back(variable.data());
  envp.push_back(nullptr);
  int rc = posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + path);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(port_file);
    if (in >> port_ && port_ > 0) return;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::ifstream log(log_path);
      std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
      throw std::runtime_error(binary + " exited during start-up:\n" + text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Stop();
  throw std::runtime_error(binary + " did not report its port within 30 s");
}

ServiceProcess::~ServiceProcess() { Stop(); }

int ServiceProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (code != 0) {
    // The test's output is all a CI run keeps: the end of the service's log goes with it.
    std::ifstream log(log_path_);
    std::deque<std::string> tail;
    for (std::string line; std::getline(log, line);) {
      tail.push_back(std::move(line));
      if (tail.size() > 60) tail.pop_front();
    }
    std::fprintf(stderr, "--- %s exited with %d; the end of its log:\n", log_path_.c_str(), code);
    for (const std::string& line : tail) std::fprintf(stderr, "%s\n", line.c_str());
  }
  return code;
}

std::vector<nlohmann::json> LogEvents(const std::string& log_path, const std::string& event,
                                      const std::string& field, const std::string& value) {
  std::vector<nlohmann::json> found;
  std::ifstream log(log_path);
  for (std::string line; std::getline(log, line);) {
    nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_object() || parsed.value("event", "") != event) continue;
    if (!field.empty() && parsed.value(field, "") != value) continue;
    found.push_back(std::move(parsed));
  }
  return found;
}

}  // namespace tessera::testing
