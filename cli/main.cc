// tessera: the command line for operators and test rigs. `tessera --help` lists the commands,
// `tessera COMMAND --help` shows one (cli/command_line.cc).
#include <cstdio>
#include <string>

#include "cli/common.h"
#include "platform/process.h"

int main(int argc, char** argv) {
  // First: no core dump or ptrace of a process holding PINs, and no PIN left in its
  // environment, whatever the command.
  if (absl::Status hardened = tessera::HardenProcess(); !hardened.ok()) {
    std::fprintf(stderr, "tessera: %s\n", std::string(hardened.message()).c_str());
    return 1;
  }
  tessera::cli::TakeSecretsFromEnv();
  return tessera::cli::RunCommandLine(argc, argv);
}
