// The CRLs tessera-ca serves over HTTP, held in memory so that a request never reads the
// database: each issuing CA's last CRL, reloaded when the CRL store holds a newer number (a
// cheap poll, every second by default, sees what this process's publisher or another
// replica's signed), and the root's CRL, a file the offline key ceremony writes, reloaded
// when the file changes. Each comes with what HTTP caching needs (an ETag, thisUpdate,
// nextUpdate).
#pragma once

#include <botan/x509cert.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ca/crl_store.h"
#include "platform/periodic.h"

namespace tessera::ca {

struct CachedCrl {
  std::string name;  // issuing CA, or "root"
  int64_t number = 0;
  std::chrono::system_clock::time_point this_update, next_update;
  std::string der;
  std::string etag;  // "\"<name>-<number>\"", quotes included
};

class CrlCache {
 public:
  // `issuers`: the issuing CAs whose CRLs the store holds. `root_crl_path`: where the key
  // ceremony writes the root's CRL (DER or PEM); accepted only if `root` signed it.
  CrlCache(CrlStore& store, std::vector<std::string> issuers, std::string root_crl_path,
           Botan::X509_Certificate root,
           std::chrono::milliseconds poll = std::chrono::milliseconds(1000));
  ~CrlCache() { Stop(); }

  // Reloads what changed. An error names the first CRL that could not be read; the others
  // are still reloaded and the cache keeps serving what it had.
  absl::Status RunOnce();
  void Start() { task_.Start(); }  // RunOnce now and every poll
  // RunOnce on this thread (loaded before the endpoint serves), then every poll.
  absl::Status RunThenStart() { return task_.RunThenStart(); }
  void Stop() { task_.Stop(); }

  // The CRL of `name`, or nullptr (none yet: not signed, database unreachable at start, or
  // no root CRL file).
  std::shared_ptr<const CachedCrl> Get(const std::string& name) const;
  bool Serves(const std::string& name) const;  // an issuing CA, or "root"

 private:
  absl::Status ReloadIssuer(const std::string& issuer);
  absl::Status ReloadRoot();

  CrlStore& store_;
  const std::vector<std::string> issuers_;
  const std::string root_crl_path_;
  const Botan::X509_Certificate root_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const CachedCrl>> crls_;
  std::optional<std::filesystem::file_time_type> root_mtime_;  // of the file last read
  bool root_missing_logged_ = false;
  PeriodicTask task_;  // last: its thread uses the members above
};

}  // namespace tessera::ca
