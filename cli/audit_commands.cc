// tessera audit verify: walks a service's audit chain in its database and checks its anchors
// with the anchor key's public half (audit/pg_chain.h). Reads only; an auditor's read-only
// database role is enough.
#include <botan/data_src.h>
#include <botan/x509_key.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "absl/strings/str_cat.h"
#include "audit/pg_chain.h"
#include "cli/common.h"
#include "platform/files.h"
#include "platform/pg.h"
#include "platform/status_macros.h"

namespace tessera::cli {
namespace {

absl::StatusOr<std::unique_ptr<Botan::Public_Key>> ReadPublicKey(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  try {
    Botan::DataSource_Memory source(pem);
    return std::unique_ptr<Botan::Public_Key>(Botan::X509::load_key(source));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("--anchor-key: not a PEM public key (", path, "): ", e.what()));
  }
}

absl::Status Verify(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Botan::Public_Key> key,
                           ReadPublicKey(args.Get("anchor-key")));
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<pg::Connection> conn,
                           pg::Connection::Open(args.Get("database")));
  const std::string chain = args.Get("chain");
  TESSERA_ASSIGN_OR_RETURN(audit::StoredChainReport stored,
                           audit::VerifyStoredChain(*conn, chain, *key));
  const audit::ChainReport& report = stored.chain;
  const std::string text =
      report.ok() ? absl::StrCat("audit chain ", chain, ": holds (", report.records, " records, ",
                                 report.anchors, " anchors checked; ", stored.pending,
                                 " changes waiting to be chained)")
                  : absl::StrCat("audit chain ", chain, ": BROKEN at ", report.first_break);
  Print(args,
        {{"chain", chain},
         {"holds", report.ok()},
         {"records", report.records},
         {"anchors", report.anchors},
         {"pending", stored.pending},
         {"first_break", report.first_break}},
        text);
  if (!report.ok()) {
    return absl::DataLossError(absl::StrCat("audit chain ", chain, " is broken"));
  }
  return absl::OkStatus();
}

}  // namespace

void AddAuditCommands(CLI::App& app) {
  CLI::App* audit = AddGroup(app, "audit", "the services' audit chains");
  CLI::App* verify = AddCommand(
      *audit, "verify", "walk a service's audit chain and check its anchors", Verify,
      "Reads the chain (schema ca, registry, perso or dispatch) from the database, checks every "
      "record's link to the one before and every anchor's signature with the anchor key's public "
      "half (the service writes it to audit.public_key_file), and names the first broken link. "
      "Exit status 0 when the chain holds, 1 when it is broken.");
  verify->add_option("--database", "libpq connection string of the service's database")
      ->type_name("CONNINFO")
      ->required();
  verify->add_option("--chain", "the service's schema: ca, registry, perso or dispatch")
      ->type_name("SCHEMA")
      ->required()
      ->check(CLI::IsMember({"ca", "registry", "perso", "dispatch"}));
  verify->add_option("--anchor-key", "the anchor key's public half (PEM)")
      ->type_name("FILE")
      ->required();
}

}  // namespace tessera::cli
