// An office's workstation certificates for its Amministratore Postazioni (ALP; seed 000
// "Installazione dei certificati di postazione", seed 001 §7.1 "Gestione postazione"): the list
// of the office's workstations with the state of each certificate, and the download of one
// (its PKCS#12 file and password) or of all of them as one zip with a text file of passwords.
//
// Only the ALP of that office, in a card session at one of its machines: a comune's
// "amministratore_postazioni", a prefettura's "amministratore_postazioni_prefettura". The
// bundles themselves stay at tessera-ca (keys and passwords are not kept twice); the registry
// fetches them for the download and records every download (who, session, which certificates,
// when) in its audit chain before a byte of them is returned.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/clock.h"
#include "platform/principal.h"
#include "platform/secret.h"

namespace tessera::registry {

inline constexpr char kAmministratorePostazioniPrefettura[] =
    "amministratore_postazioni_prefettura";

// A workstation an office's census asked for, as its order stands.
struct Workstation {
  std::string common_id;           // owner code + 4-digit progressive ("0570010001")
  std::string state;               // LAVORAZIONE, PRODOTTA or FALLITA
  std::string certificate_serial;  // lower-case hex, when PRODOTTA
  std::string failure;             // why, when FALLITA
  std::optional<std::chrono::system_clock::time_point> outcome_at;
};

// A workstation's bundle as tessera-ca keeps it.
struct WorkstationBundle {
  std::vector<uint8_t> pkcs12;  // DER: key, certificate, issuing CA, root
  Secret password;              // opens pkcs12
};

// Fetches the bundle of the certificate with this serial (in tessera-registry: tessera-ca's
// GetWorkstationBundle, as the registry itself).
using BundleFetch = std::function<absl::StatusOr<WorkstationBundle>(const std::string& serial)>;

// One download, as the audit chain records it.
struct WorkstationDownload {
  std::string office;                   // access::Office::Text()
  std::vector<std::string> common_ids;  // the certificates handed out
  bool archive = false;                 // as one zip
  std::string person;                   // the ALP's codice fiscale
  std::string session;                  // and session
  std::string machine;                  // the workstation they called from
  std::chrono::system_clock::time_point at;
};

class WorkstationStore {
 public:
  virtual ~WorkstationStore() = default;
  // Every workstation ordered for `owner` (a comune's ISTAT code, a prefettura's province code
  // + "000"), by progressive.
  virtual absl::StatusOr<std::vector<Workstation>> WorkstationsOf(const std::string& owner) = 0;
  virtual absl::Status RecordDownload(const WorkstationDownload& download) = 0;
};

class WorkstationCertificates {
 public:
  WorkstationCertificates(WorkstationStore& store, BundleFetch fetch, const Clock& clock)
      : store_(store), fetch_(std::move(fetch)), clock_(clock) {}

  // The workstations of `office` ("" for the caller's own; "comune:<ISTAT>" or
  // "prefettura:<code>"). PERMISSION_DENIED unless the caller is that office's ALP in a session
  // there.
  absl::StatusOr<std::vector<Workstation>> List(const std::string& office, const Principal& caller);

  struct Downloaded {
    std::vector<std::pair<Workstation, WorkstationBundle>> bundles;  // as asked, by progressive
    // Downloading every one: those tessera-ca refuses to hand out (revoked since: they must not
    // be installed), and why.
    std::vector<std::pair<Workstation, std::string>> left_out;
    std::vector<uint8_t> zip;  // when asked as one archive: <common id>.p12 each, passwords.txt
  };
  // The bundles of `common_ids` (none: every produced one that tessera-ca hands out) of
  // `office`, recorded first. NOT_FOUND for a common id that is not the office's;
  // FAILED_PRECONDITION for one whose certificate is not produced (yet, or failed) or is
  // revoked, or when the office has none to hand out.
  absl::StatusOr<Downloaded> Download(const std::string& office,
                                      const std::vector<std::string>& common_ids, bool as_zip,
                                      const Principal& caller);

 private:
  WorkstationStore& store_;
  const BundleFetch fetch_;
  const Clock& clock_;
};

// The text file of passwords in a downloaded zip: one line per certificate, its file and its
// password, under a heading naming the office and the date; then those left out, and why.
std::string PasswordsText(const std::string& office,
                          const WorkstationCertificates::Downloaded& downloaded,
                          std::chrono::system_clock::time_point at);

}  // namespace tessera::registry
