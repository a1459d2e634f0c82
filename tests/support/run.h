// Runs a shell command (an independent checker: openssl, pkcs11-tool, certtool) and returns
// its exit code and combined output, so tests can assert on both.
#pragma once

#include <string>

namespace tessera::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

CommandResult RunCommand(const std::string& command);

// Single-quotes `arg` for /bin/sh.
std::string ShellQuote(const std::string& arg);

}  // namespace tessera::testing
