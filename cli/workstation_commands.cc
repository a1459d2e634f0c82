// tessera workstation …: an office's workstation certificates for its Amministratore
// Postazioni, through tessera-registry (which fetches the bundles from tessera-ca and records
// every download).

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/common.h"
#include "platform/clock.h"
#include "platform/files.h"
#include "platform/status_macros.h"
#include "proto/registry.grpc.pb.h"

namespace tessera::cli {
namespace {

nlohmann::json ToJson(const v1::Workstation& w) {
  return {{"common_id", w.common_id()},
          {"state", w.state()},
          {"certificate_serial", w.certificate_serial()},
          {"failure", w.failure()},
          {"outcome_at",
           w.outcome_at_unix() == 0 ? "" : UtcText(FromUnixSeconds(w.outcome_at_unix()))}};
}

absl::Status WorkstationList(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(auto registry, StubAt<v1::Registry>(args));
  grpc::ClientContext context;
  v1::ListWorkstationsResponse response;
  TESSERA_RETURN_IF_ERROR(
      FromGrpc(registry->ListWorkstations(&context, v1::ListWorkstationsRequest(), &response)));
  nlohmann::json list = nlohmann::json::array();
  std::string text = absl::StrFormat("%-12s %-12s %s", "WORKSTATION", "STATE", "CERTIFICATE");
  for (const v1::Workstation& w : response.workstations()) {
    list.push_back(ToJson(w));
    absl::StrAppend(&text,
                    absl::StrFormat("\n%-12s %-12s %s", w.common_id(), w.state(),
                                    w.state() == "FALLITA" ? w.failure() : w.certificate_serial()));
  }
  Print(args, {{"workstations", list}}, text);
  return absl::OkStatus();
}

absl::Status WorkstationDownload(const Args& args) {
  const std::string out = args.Get("out");
  const bool zip = out.ends_with(".zip");
  const bool show = args.Has("show-password");
  v1::DownloadWorkstationsRequest request;
  for (const std::string& id : args.All("id")) request.add_common_ids(id);
  request.set_zip(zip);
  TESSERA_ASSIGN_OR_RETURN(auto registry, StubAt<v1::Registry>(args));
  grpc::ClientContext context;
  v1::DownloadWorkstationsResponse response;
  TESSERA_RETURN_IF_ERROR(FromGrpc(registry->DownloadWorkstations(&context, request, &response)));
  nlohmann::json list = nlohmann::json::array();
  std::string text;
  if (zip) {
    TESSERA_RETURN_IF_ERROR(WriteSecretFile(out, response.zip()));
    text = absl::StrCat(out, ": ", response.workstations_size(),
                        " certificate(s) and passwords.txt (mode 0600)");
  } else {
    TESSERA_RETURN_IF_ERROR(MakePrivateDirectory(out));
    text = absl::StrCat(out, ": ", response.workstations_size(),
                        " certificate(s), each FILE.p12 with its password in FILE.p12.pass "
                        "(mode 0600)");
  }
  for (const v1::DownloadedWorkstation& d : response.workstations()) {
    if (!zip) {
      const std::string file = absl::StrCat(out, "/", d.workstation().common_id(), ".p12");
      TESSERA_RETURN_IF_ERROR(WriteSecretFile(file, d.pkcs12()));
      TESSERA_RETURN_IF_ERROR(WriteSecretFile(file + ".pass", d.password()));
    }
    nlohmann::json entry = ToJson(d.workstation());
    if (show) entry["password"] = d.password();
    list.push_back(entry);
    absl::StrAppend(&text,
                    absl::StrFormat("\n  %-12s %s", d.workstation().common_id(),
                                    show ? d.password() : d.workstation().certificate_serial()));
  }
  nlohmann::json left_out = nlohmann::json::array();
  for (const v1::WorkstationLeftOut& l : response.left_out()) {
    left_out.push_back({{"common_id", l.workstation().common_id()}, {"reason", l.reason()}});
    absl::StrAppend(
        &text, absl::StrFormat("\n  %-12s left out: %s", l.workstation().common_id(), l.reason()));
  }
  Print(args, {{"out", out}, {"zip", zip}, {"workstations", list}, {"left_out", left_out}}, text);
  return absl::OkStatus();
}

}  // namespace

void AddWorkstationCommands(CLI::App& app) {
  CLI::App* workstation = AddGroup(
      app, "workstation",
      "the office's workstation certificates, for its Amministratore Postazioni",
      ConnectsTo("tessera-registry") +
          " The office's Amministratore Postazioni with their card session (tessera login) at "
          "one of its workstations; every download is recorded.");
  AddCommand(*workstation, "list", "the office's workstations and their certificates' state",
             WorkstationList);
  CLI::App* download = AddCommand(
      *workstation, "download", "workstation bundles (PKCS#12) with their passwords",
      WorkstationDownload,
      "--out FILE.zip: one zip (\"Scarica tutti\") with every FILE.p12 and passwords.txt; "
      "--out DIR: each <workstation>.p12 with its password in <workstation>.p12.pass. All "
      "files mode 0600. Passwords are printed only with --show-password.");
  download->add_option("--id", "only this workstation (repeatable); none: every produced one")
      ->type_name("WORKSTATION")
      ->take_all();
  download->add_option("--out", "FILE.zip, or a directory")->type_name("PATH")->required();
  download->add_flag("--show-password")->description("print the passwords too");
}

}  // namespace tessera::cli
