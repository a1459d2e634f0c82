#include "tests/support/smtp_sink.h"

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/test_ceremony.h"

extern char** environ;

namespace tessera::testing {
namespace {

bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return ok;
}

}  // namespace

SmtpSink::SmtpSink(const std::string& dir, int port)
    : dir_(dir), port_(port != 0 ? port : FreeLoopbackPort()) {
  std::filesystem::create_directories(dir_);
  const std::string script = std::string(TESSERA_SOURCE_DIR) + "/tests/support/smtp_sink.py";
  const std::string port_text = std::to_string(port_);
  // Debian's interpreter, where python3-aiosmtpd is installed (not a virtualenv's).
  std::vector<std::string> args = {"/usr/bin/python3", script, "--port", port_text, "--dir", dir_};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) {
    throw std::runtime_error("smtp sink: cannot start " + script);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (!Accepts(port_)) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("smtp sink: exited at start (is python3-aiosmtpd installed?)");
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("smtp sink: not listening after 15 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

SmtpSink::~SmtpSink() { Stop(); }

void SmtpSink::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::vector<std::string> SmtpSink::Messages() const {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (entry.path().extension() == ".eml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> messages;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    messages.push_back(text.str());
  }
  return messages;
}

std::string MailHeader(const std::string& message, const std::string& name) {
  const std::string head = message.substr(0, message.find("\r\n\r\n"));
  std::istringstream lines(head);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
        line[name.size()] == ':') {
      return line.substr(name.size() + 2);
    }
  }
  return "";
}

std::string MailBody(const std::string& message) {
  const size_t start = message.find("\r\n\r\n");
  if (start == std::string::npos) return "";
  const std::string body = message.substr(start + 4);
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\r') continue;
    if (body[i] == '=' && i + 1 < body.size()) {
      if (body[i + 1] == '\r' || body[i + 1] == '\n') {  // soft line break
        i += body[i + 1] == '\r' ? 2 : 1;
        continue;
      }
      if (i + 2 < body.size()) {
        out += static_cast<char>(std::stoi(body.substr(i + 1, 2), nullptr, 16));
        i += 2;
        continue;
      }
    }
    out += body[i];
  }
  return out;
}

}  // namespace tessera::testing
