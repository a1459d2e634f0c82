// The tessera binary's command line, without a service: per-command help, a suggestion for a
// mistyped command, the parser's refusals with exit status 2 (text and --json), and the bash
// completion script it generates.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

namespace tessera {
namespace {

using testing::RunCommand;

std::string Tessera(const std::string& arguments) {
  return std::string(TESSERA_BIN_DIR) + "/tessera " + arguments;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(CliTest, HelpListsEveryCommandAndEachCommandHasItsOwn) {
  auto all = RunCommand(Tessera("--help"));
  EXPECT_EQ(all.exit_code, 0) << all.output;
  for (const char* command : {"token csr", "ceremony root-crl", "ca bundle", "census import",
                              "registry ministry-operator add", "completion"}) {
    EXPECT_TRUE(Contains(all.output, command)) << command << "\n" << all.output;
  }
  EXPECT_TRUE(Contains(all.output, "Exit status")) << all.output;

  auto import = RunCommand(Tessera("census import --help"));
  EXPECT_EQ(import.exit_code, 0) << import.output;
  EXPECT_TRUE(Contains(import.output, "Usage: tessera census import")) << import.output;
  EXPECT_TRUE(Contains(import.output, "FILE")) << import.output;
  EXPECT_TRUE(Contains(import.output, "TESSERA_TARGET")) << import.output;
  EXPECT_FALSE(Contains(import.output, "ca bundle")) << import.output;
  EXPECT_FALSE(Contains(import.output, "--progressive")) << import.output;

  auto bundle = RunCommand(Tessera("ca bundle --help"));
  EXPECT_EQ(bundle.exit_code, 0) << bundle.output;
  EXPECT_TRUE(Contains(bundle.output, "--show-password")) << bundle.output;
  EXPECT_FALSE(Contains(bundle.output, "census")) << bundle.output;

  // --help wins over a mistake beside it, as it always did.
  EXPECT_EQ(RunCommand(Tessera("census list --kind x --help")).exit_code, 0);
}

// `tessera <arguments>` refused before anything runs: exit status 2, its message saying `says`.
void ExpectRefused(const std::string& arguments, const std::string& says) {
  auto run = RunCommand(Tessera(arguments));
  EXPECT_EQ(run.exit_code, 2) << arguments << "\n" << run.output;
  EXPECT_TRUE(Contains(run.output, says)) << arguments << "\n" << run.output;
}

TEST(CliTest, MistypedCommandGetsASuggestion) {
  ExpectRefused("cesus list", "unknown command 'cesus'");
  ExpectRefused("cesus list", "did you mean 'census'?");
  ExpectRefused("census lsit", "did you mean 'census list'?");
  ExpectRefused("registry ministry-operator ad --cf X",
                "did you mean 'registry ministry-operator add'?");
  ExpectRefused("census", "a command is required");
}

TEST(CliTest, ParserRefusalsExitTwo) {
  ExpectRefused("ca revoke --serial 01", "--reason is required");
  ExpectRefused("census import", "FILE is required");
  ExpectRefused("census list --kind x", "--kind");
  ExpectRefused("ca revoke --serial 01 --reason 2", "--reason");
  ExpectRefused("census list --bogus 1", "--bogus");
  ExpectRefused("census show --istat 057001 --province RI", "census show");

  // With --json the refusal is JSON on stderr, wherever --json stands.
  auto json = RunCommand("(" + Tessera("census list --kind x --json") + " 2>&1 >/dev/null)");
  EXPECT_EQ(json.exit_code, 2) << json.output;
  nlohmann::json error = nlohmann::json::parse(json.output, nullptr, false);
  ASSERT_TRUE(error.is_object()) << json.output;
  EXPECT_EQ(error["code"], "INVALID_ARGUMENT") << json.output;

  // Repeated options are taken (every --revoke), and the command runs: it fails on the
  // missing file, a failure that is not the arguments' (1).
  auto repeated =
      RunCommand(Tessera("ceremony root-crl --config /nonexistent/ceremony.toml --revoke operators "
                         "--revoke workstations --reason 2"));
  EXPECT_EQ(repeated.exit_code, 1) << repeated.output;
  EXPECT_TRUE(Contains(repeated.output, "/nonexistent/ceremony.toml")) << repeated.output;
}

TEST(CliTest, BashCompletionIsValidAndKnowsTheTree) {
  testing::TempDir dir("tessera-cli");
  const std::string script = dir.File("tessera.bash");
  auto written = RunCommand(Tessera("completion bash > " + script));
  ASSERT_EQ(written.exit_code, 0) << written.output;
  EXPECT_TRUE(Contains(testing::ReadFileOrDie(script), "ministry-operator"));
  auto syntax = RunCommand("bash -n " + script);
  EXPECT_EQ(syntax.exit_code, 0) << syntax.output;

  // Completing as bash would: commands at a level, an option's closed set.
  auto complete = [&](const std::string& words) {
    return RunCommand("bash -c 'source " + script + "; COMP_WORDS=(" + words +
                      "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _tessera; "
                      "echo \"${COMPREPLY[*]}\"'")
        .output;
  };
  EXPECT_EQ(complete("tessera registry ministry-operator a"), "add\n");
  EXPECT_EQ(complete("tessera --target x census list --kind \"\""), "comune prefettura\n");
}

}  // namespace
}  // namespace tessera
