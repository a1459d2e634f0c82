// The tessera command line on CLI11: the command tree, the parse, a suggestion for a mistyped
// command, and the exit status of each outcome.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/common.h"

namespace tessera::cli {
namespace {

constexpr char kDescription[] =
    "tessera: the command line of tessera's certificate authority (tessera-ca) and census "
    "registry (tessera-registry).";

constexpr char kFooter[] =
    "Secrets (PINs, the census access code) come from the environment, never from arguments: "
    "each variable X may instead be X_FILE, naming a file of mode 0600 or 0400 whose first line "
    "is the secret (e.g. systemd's LoadCredential). They are wiped from the environment at "
    "start.\n"
    "Global options go before or after the command. tessera COMMAND --help: that command's "
    "options.\n"
    "Exit status: 0 success, 2 invalid arguments, 1 any other failure.";

// The named subcommands of `app`: its option groups (--istat | --province) are nameless ones.
std::vector<const CLI::App*> Subcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* sub) { return !sub->get_name().empty(); });
}

// "census list": where `app` stands under tessera.
std::string PathOf(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* a = &app; a->get_parent() != nullptr; a = a->get_parent()) {
    names.insert(names.begin(), a->get_name());
  }
  return absl::StrJoin(names, " ");
}

// Text as wide as the README: each paragraph of `text` broken at spaces into lines of at most
// `width` characters (CLI11 prints descriptions and footers as they are).
std::string Wrap(const std::string& text, size_t width) {
  std::string out;
  for (absl::string_view paragraph : absl::StrSplit(text, '\n')) {
    size_t line = 0;
    for (absl::string_view word : absl::StrSplit(paragraph, ' ', absl::SkipEmpty())) {
      if (line > 0 && line + 1 + word.size() > width) {
        out += '\n';
        line = 0;
      } else if (line > 0) {
        out += ' ';
        ++line;
      }
      out.append(word.data(), word.size());
      line += word.size();
    }
    out += '\n';
  }
  out.pop_back();
  return out;
}

// Lists every command under an app with its path ("registry ministry-operator add"), not only
// the next level as CLI11 does, so `tessera --help` is a map of the whole command line; and
// wraps long lines.
class Formatter : public CLI::Formatter {
 public:
  static constexpr size_t kWidth = 100;
  static constexpr size_t kColumn = 36;  // "registry ministry-operator remove" fits

  Formatter() { column_width(kColumn); }

  std::string make_subcommands(const CLI::App* app, CLI::AppFormatMode) const override {
    std::string out;
    // Option groups (--istat | --province) are nameless subcommands: shown as CLI11 does.
    for (const CLI::App* group :
         app->get_subcommands([](const CLI::App* sub) { return sub->get_name().empty(); })) {
      out += make_expanded(group);
    }
    std::stringstream commands;
    List(*app, "", commands);
    return commands.str().empty() ? out : out + "\nCommands:\n" + commands.str();
  }
  std::string make_description(const CLI::App* app) const override {
    return Wrap(CLI::Formatter::make_description(app), kWidth);
  }
  std::string make_footer(const CLI::App* app) const override {
    return Wrap(CLI::Formatter::make_footer(app), kWidth);
  }
  std::string make_option_desc(const CLI::Option* option) const override {
    return Wrap(option->get_description(), kWidth - kColumn);
  }

 private:
  void List(const CLI::App& app, const std::string& prefix, std::stringstream& out) const {
    for (const CLI::App* sub : Subcommands(app)) {
      const std::string path = prefix + sub->get_name();
      if (CommandOf(*sub) != nullptr) {
        CLI::detail::format_help(out, path, Wrap(sub->get_description(), kWidth - kColumn),
                                 kColumn);
      }
      List(*sub, path + " ", out);
    }
  }
};

// Levenshtein distance: how many one-letter edits turn `a` into `b`.
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// "unknown command 'census lsit'; did you mean 'census list'?": CLI11 itself only says the
// word was not expected. The nearest command name under `group`, if it is near enough to be a
// typo; else the names there are.
std::string UnknownCommand(const CLI::App& group, const std::string& word) {
  const std::string prefix = group.get_parent() == nullptr ? "" : PathOf(group) + " ";
  std::vector<std::string> names;
  const CLI::App* nearest = nullptr;
  size_t best = std::max<size_t>(2, word.size() / 3) + 1;
  for (const CLI::App* sub : Subcommands(group)) {
    names.push_back(sub->get_name());
    if (size_t distance = EditDistance(word, sub->get_name()); distance < best) {
      best = distance;
      nearest = sub;
    }
  }
  std::string message = "unknown command '" + prefix + word + "'; ";
  return message + (nearest != nullptr ? "did you mean '" + prefix + nearest->get_name() + "'?"
                                       : "commands: " + absl::StrJoin(names, ", "));
}

// The command the parser took: the deepest subcommand it selected.
CLI::App* Selected(CLI::App& app) {
  CLI::App* selected = &app;
  while (!selected->get_subcommands().empty()) selected = selected->get_subcommands().front();
  return selected;
}

// A word the parser could not place where the selected app has subcommands: a mistyped
// command. A word right after an unknown option is that option's value, not a command.
std::optional<std::string> MistypedCommand(CLI::App& app, const CLI::App& selected) {
  if (Subcommands(selected).empty()) return std::nullopt;
  const std::vector<std::string> extras = app.remaining(true);
  for (size_t i = 0; i < extras.size(); ++i) {
    if (extras[i].starts_with("-")) continue;
    if (i > 0 && extras[i - 1].starts_with("-")) continue;
    return extras[i];
  }
  return std::nullopt;
}

// --help on the line wins over any mistake beside it: CLI11 checks choices before help.
bool AskedForHelp(CLI::App& app) {
  for (const CLI::App* a = Selected(app); a != nullptr; a = a->get_parent()) {
    if (a->get_help_ptr() != nullptr && a->get_help_ptr()->count() > 0) return true;
  }
  return false;
}

// "census list: `message` (see tessera census list --help)": a refusal that names the command
// and where its help is.
absl::Status Invalid(const CLI::App& command, const std::string& message) {
  const std::string path = PathOf(command);
  return absl::InvalidArgumentError(path.empty() ? message + " (see tessera --help)"
                                                 : path + ": " + message + " (see tessera " + path +
                                                       " --help)");
}

// The parser's refusal in words.
absl::Status Refused(CLI::App& app, const CLI::ParseError& error) {
  const CLI::App& selected = *Selected(app);
  if (std::optional<std::string> word = MistypedCommand(app, selected)) {
    return absl::InvalidArgumentError(UnknownCommand(selected, *word));
  }
  // CLI11 lists unexpected arguments in reverse.
  return Invalid(selected, dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr
                               ? "unexpected " + absl::StrJoin(app.remaining(true), " ")
                               : error.what());
}

// The options of `command` and the global ones, as the command reads them.
Args ArgsOf(CLI::App& command, CLI::App& app) {
  Args args;
  std::set<std::string> own;
  for (CLI::App* from : {&command, &app}) {
    for (CLI::Option* option : OptionsOf(*from)) {
      const std::string name = option->get_single_name();
      // A command's own option shadows a global one of the same name (token write-cert --cert).
      if (name == "help" || (from == &app && own.contains(name))) continue;
      if (from == &command) own.insert(name);
      if (option->count() > 0) {
        for (const std::string& value : option->results()) args.options.emplace(name, value);
      } else if (!option->get_default_str().empty()) {
        args.options.emplace(name, option->get_default_str());
      }
    }
  }
  args.json = args.Has("json");
  return args;
}

absl::Status Execute(CLI::App& app) {
  CLI::App& selected = *Selected(app);
  const Command* command = CommandOf(selected);
  if (command == nullptr) {  // a group, or the bare tessera
    std::vector<std::string> names;
    for (const CLI::App* sub : Subcommands(selected)) names.push_back(sub->get_name());
    return Invalid(selected, "a command is required: " + absl::StrJoin(names, ", "));
  }
  return (*command)(ArgsOf(selected, app));
}

// The whole tree, each group file adding its own commands.
void BuildTree(CLI::App& app) {
  // Set before the commands are added: each subcommand takes its parent's formatter.
  app.formatter(std::make_shared<Formatter>());
  app.footer(kFooter);
  AddGlobalOptions(app);
  AddTokenCommands(app);
  AddCaCommands(app);
  AddRegistryCommands(app);
  AddBatchCommands(app);
  AddSessionCommands(app);
  AddAuditCommands(app);
  AddDispatchCommands(app);
  AddWorkstationCommands(app);
  AddCommand(app, "health", "ask a tessera service for its gRPC health", Health,
             ConnectsTo("the service"));
  CLI::App* completion =
      AddCommand(app, "completion", "a shell completion script: source <(tessera completion bash)",
                 [&app](const Args&) {
                   std::fputs(BashCompletion(app).c_str(), stdout);
                   return absl::OkStatus();
                 });
  completion->add_option("shell", "the shell")
      ->type_name("SHELL")
      ->required()
      ->check(CLI::IsMember({"bash"}));
}

int Fail(const absl::Status& status, bool json) {
  if (json) {
    nlohmann::json error = {{"error", std::string(status.message())},
                            {"code", absl::StatusCodeToString(status.code())}};
    std::fprintf(stderr, "%s\n", error.dump().c_str());
  } else {
    std::fprintf(stderr, "tessera: %s\n", std::string(status.message()).c_str());
  }
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace

int RunCommandLine(int argc, char** argv) {
  CLI::App app(kDescription, "tessera");
  BuildTree(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);  // the selected command's help on stdout, status 0
  } catch (const CLI::ParseError& error) {
    if (AskedForHelp(app)) {
      std::fputs(app.help().c_str(), stdout);  // the selected command's
      return 0;
    }
    return Fail(Refused(app, error), app.get_option("--json")->count() > 0);
  }
  absl::Status status = Execute(app);
  return status.ok() ? 0 : Fail(status, app.get_option("--json")->count() > 0);
}

}  // namespace tessera::cli
