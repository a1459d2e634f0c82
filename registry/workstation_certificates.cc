#include "registry/workstation_certificates.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "access/office.h"
#include "archive/zip_file.h"
#include "platform/log.h"
#include "platform/status_macros.h"
#include "registry/census.h"

namespace tessera::registry {
namespace {

// The office whose workstations `caller` administers, as `named` asks ("" for the caller's
// own): only its ALP, in a session at one of its machines.
absl::StatusOr<access::Office> OfficeOfTheAlp(const Principal& caller, const std::string& named) {
  if (!caller.session) {
    return absl::PermissionDeniedError(
        "workstation certificates go to a person's session: the office's Amministratore "
        "Postazioni, logged in with their card");
  }
  const PersonSession& session = *caller.session;
  TESSERA_ASSIGN_OR_RETURN(access::Office own, access::ParseOffice(session.office));
  if (!named.empty() && named != session.office) {
    return absl::PermissionDeniedError(absl::StrCat(
        "office: ", session.office, "'s Amministratore Postazioni may not act for ", named));
  }
  const bool alp = (own.kind == access::Office::Kind::kComune &&
                    session.Holds(kAmministratorePostazioni, "comune")) ||
                   (own.kind == access::Office::Kind::kPrefettura &&
                    session.Holds(kAmministratorePostazioniPrefettura, "prefettura"));
  if (!alp) {
    return absl::PermissionDeniedError(
        absl::StrCat("workstation certificates of ", session.office,
                     " go to its Amministratore Postazioni only, not to ", session.person));
  }
  return own;
}

std::string WorkstationOwner(const access::Office& office) {
  return OfficeCode(CensusKindOf(office), office.census_owner());
}

// The workstations `common_ids` names among the office's (every produced one when none).
absl::StatusOr<std::vector<Workstation>> Chosen(const std::vector<Workstation>& all,
                                                const std::vector<std::string>& common_ids,
                                                const std::string& office) {
  std::vector<Workstation> chosen;
  if (common_ids.empty()) {
    std::copy_if(all.begin(), all.end(), std::back_inserter(chosen),
                 [](const Workstation& w) { return w.state == "PRODOTTA"; });
    if (chosen.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("no workstation certificate of ", office, " is produced yet"));
    }
    return chosen;
  }
  std::set<std::string> asked;
  for (const std::string& id : common_ids) {
    if (!asked.insert(id).second) {
      return absl::InvalidArgumentError(absl::StrCat("common_ids: ", id, " named twice"));
    }
    auto found = std::find_if(all.begin(), all.end(),
                              [&id](const Workstation& w) { return w.common_id == id; });
    if (found == all.end()) {
      return absl::NotFoundError(
          absl::StrCat("common_ids: ", id, " is not a workstation of ", office));
    }
    if (found->state != "PRODOTTA") {
      return absl::FailedPreconditionError(
          absl::StrCat("common_ids: the certificate of ", id, " is not produced (", found->state,
                       found->failure.empty() ? "" : absl::StrCat(": ", found->failure), ")"));
    }
    chosen.push_back(*found);
  }
  return chosen;
}

std::string FileName(const Workstation& workstation) {
  return absl::StrCat(workstation.common_id, ".p12");
}

}  // namespace

absl::StatusOr<std::vector<Workstation>> WorkstationCertificates::List(const std::string& office,
                                                                       const Principal& caller) {
  TESSERA_ASSIGN_OR_RETURN(access::Office own, OfficeOfTheAlp(caller, office));
  return store_.WorkstationsOf(WorkstationOwner(own));
}

absl::StatusOr<WorkstationCertificates::Downloaded> WorkstationCertificates::Download(
    const std::string& office, const std::vector<std::string>& common_ids, bool as_zip,
    const Principal& caller) {
  TESSERA_ASSIGN_OR_RETURN(access::Office own, OfficeOfTheAlp(caller, office));
  TESSERA_ASSIGN_OR_RETURN(std::vector<Workstation> all,
                           store_.WorkstationsOf(WorkstationOwner(own)));
  TESSERA_ASSIGN_OR_RETURN(std::vector<Workstation> chosen, Chosen(all, common_ids, own.Text()));
  Downloaded downloaded;
  for (Workstation& workstation : chosen) {
    absl::StatusOr<WorkstationBundle> bundle = fetch_(workstation.certificate_serial);
    // "Scarica tutti" hands out what may be installed: a certificate revoked since its order
    // was produced is left out and named, not a reason to hand out nothing.
    if (common_ids.empty() && absl::IsFailedPrecondition(bundle.status())) {
      downloaded.left_out.emplace_back(std::move(workstation),
                                       std::string(bundle.status().message()));
      continue;
    }
    if (!bundle.ok()) {
      return absl::Status(bundle.status().code(),
                          absl::StrCat("the bundle of ", workstation.common_id,
                                       " at tessera-ca: ", bundle.status().message()));
    }
    downloaded.bundles.emplace_back(std::move(workstation), *std::move(bundle));
  }
  if (downloaded.bundles.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no workstation certificate of ", own.Text(), " may be handed out: ",
        downloaded.left_out.front().first.common_id, ": ", downloaded.left_out.front().second));
  }
  const auto now = clock_.Now();
  WorkstationDownload record{.office = own.Text(),
                             .archive = as_zip,
                             .person = caller.session->person,
                             .session = caller.session->id,
                             .machine = caller.name,
                             .at = now};
  for (const auto& [workstation, bundle] : downloaded.bundles) {
    record.common_ids.push_back(workstation.common_id);
  }
  if (as_zip) {
    const std::string passwords = PasswordsText(own.Text(), downloaded, now);
    std::vector<archive::ZipEntry> entries;
    for (const auto& [workstation, bundle] : downloaded.bundles) {
      entries.push_back({FileName(workstation), bundle.pkcs12});
    }
    entries.push_back(
        {"passwords.txt", {reinterpret_cast<const uint8_t*>(passwords.data()), passwords.size()}});
    TESSERA_ASSIGN_OR_RETURN(downloaded.zip, archive::ZipFile(entries, now));
  }
  // Recorded before anything leaves: a download the chain does not show did not happen.
  TESSERA_RETURN_IF_ERROR(store_.RecordDownload(record));
  LogEvent(spdlog::level::info, "workstation_certificates_downloaded",
           {{"office", record.office},
            {"by", record.person},
            {"certificates", absl::StrJoin(record.common_ids, ",")},
            {"zip", as_zip ? "yes" : "no"}});
  return downloaded;
}

std::string PasswordsText(const std::string& office,
                          const WorkstationCertificates::Downloaded& downloaded,
                          std::chrono::system_clock::time_point at) {
  std::string text = absl::StrCat("Certificati di postazione di ", office, ", scaricati il ",
                                  PrintedDate(ItalianDate(at)), "\r\n\r\n");
  absl::StrAppend(&text, absl::StrFormat("%-12s %-16s %s\r\n", "Postazione", "File", "Password"));
  for (const auto& [workstation, bundle] : downloaded.bundles) {
    absl::StrAppend(
        &text, absl::StrFormat("%-12s %-16s %s\r\n", workstation.common_id, FileName(workstation),
                               std::string(bundle.password.view())));
  }
  if (!downloaded.left_out.empty()) {
    absl::StrAppend(&text, "\r\nNon scaricati (non da installare):\r\n");
    for (const auto& [workstation, why] : downloaded.left_out) {
      absl::StrAppend(&text, absl::StrFormat("%-12s %s\r\n", workstation.common_id, why));
    }
  }
  return text;
}

}  // namespace tessera::registry
