// tessera-ca's OCSP responder, pre-signing (RFC 6960 §2.5 allows answers signed ahead of the
// request; the RFC 5019 profile and Let's Encrypt work this way): answers live in memory,
// keyed by (issuing CA, CertID hash algorithm, serial), so a request for a certificate whose
// answer is in memory never waits on the database or the HSM. Each issuing CA answers with
// its delegated responder (key under CKA_ID "ocsp-<ca>" on the online token; its certificate
// is the newest one the CA recorded for that key, or the ceremony's on the token).
//
// An answer is signed when first asked for (on a worker thread, so the caller's event loop
// never blocks), again in the background when its status changes (Forget, after this
// tessera-ca revokes), when it is older than half its validity and was asked for since, and
// when the responder certificate is renewed. Statuses are re-read from the store in the
// background at most every `status_ttl` per entry, so another replica's revocation shows
// within that time. Pre-signed answers carry no nonce (RFC 5019 §2.2.1; openssl ocsp prints
// "WARNING: no nonce in response" and still verifies).
//
// What costs no signature: a request that is not one well-formed CertID (malformedRequest,
// RFC 5019 allows one per request), another CA's certificate, and a serial tessera-ca has no
// issued certificate of for that CA (unauthorized, unsigned, as RFC 5019 §2.2.3 and Let's
// Encrypt answer; remembered for `unknown_ttl`). Memory is bounded by `max_entries`.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ca/certificate_store.h"
#include "ca/issuer.h"
#include "ca/ocsp.h"
#include "hsm/token.h"
#include "platform/clock.h"

namespace tessera::ca {

struct OcspPolicy {
  std::chrono::seconds validity{std::chrono::hours(1)};  // nextUpdate - thisUpdate
  // How stale a cached status may get before the background re-reads it from the store.
  std::chrono::seconds status_ttl{std::chrono::seconds(60)};
  // How long "no such certificate" is answered from memory.
  std::chrono::seconds unknown_ttl{std::chrono::seconds(60)};
  size_t max_entries = 1'000'000;        // signed answers kept (about 1 KiB each with P-256)
  size_t max_unknown = 100'000;          // remembered unknown serials
  int workers = 2;                       // threads signing answers that are not in memory yet
  size_t max_queued = 1024;              // first requests waiting for a worker; more: tryLater
  std::chrono::milliseconds poll{1000};  // background pass
};

class OcspResponder {
 public:
  using Answer = std::shared_ptr<const std::vector<uint8_t>>;

  static absl::StatusOr<std::unique_ptr<OcspResponder>> Create(
      CertificateStore& store, const std::map<std::string, std::unique_ptr<Issuer>>& issuers,
      std::shared_ptr<hsm::Token> token, const Clock& clock, OcspPolicy policy = {});
  ~OcspResponder() { Stop(); }

  // Starts the workers and the background refresher; Stop answers whatever is still queued
  // with tryLater and joins them.
  void Start();
  void Stop();

  // What a request costs. `answer` is set when memory had it (a signed answer, or an
  // unsigned malformedRequest / unauthorized); otherwise `miss` names the work for Resolve.
  struct Lookup {
    Answer answer;
    std::string miss;
  };
  // Memory only: never the database, never the HSM.
  Lookup Find(std::span<const uint8_t> request);
  // Queues a miss for a worker, which reads the store, signs and calls `done` with the answer
  // (on the worker's thread). Requests for the same certificate share one signature. False,
  // and `done` is never called, when the queue is full or the responder is not started.
  bool Resolve(const std::string& miss, std::function<void(Answer)> done);
  // Find, then any miss resolved on the calling thread (tests, tools).
  std::vector<uint8_t> Respond(std::span<const uint8_t> request);

  // The certificate's status changed: its answers are not served again, and are signed anew
  // in the background (or by the next request, whichever comes first).
  void Forget(const std::string& serial);
  // One background pass now: status re-reads, renewals and re-signatures that are due.
  // Returns how many answers it signed.
  int RefreshOnce();

  // tryLater (unsigned): for a request the responder cannot take now.
  Answer TryLaterAnswer() const { return try_later_; }

  // What OcspResponderRenewal keeps current: each issuing CA's responder certificate (the
  // newest one recorded for the responder's key) and the key on the token.
  struct Signer {
    std::string issuer;
    std::shared_ptr<const Botan::X509_Certificate> certificate;
    const Botan::Private_Key* key;  // lives as long as this responder
  };
  std::vector<Signer> Signers() const;
  // Answers are signed with `certificate` from now on; those in memory are re-signed in the
  // background. INVALID_ARGUMENT unless it certifies the responder's key.
  absl::Status ReplaceCertificate(const std::string& issuer,
                                  std::shared_ptr<const Botan::X509_Certificate> certificate);

  size_t size() const;  // signed answers in memory

 private:
  struct Responder {
    std::string issuer;
    std::vector<uint8_t> name_sha1, key_sha1, name_sha256, key_sha256;
    std::shared_ptr<const Botan::X509_Certificate> certificate;  // guarded by mutex_
    uint64_t generation = 0;  // bumped with each new certificate; guarded by mutex_
    std::unique_ptr<Botan::Private_Key> key;
  };
  struct Entry {
    OcspCertId id;
    size_t responder = 0;
    Answer answer;  // null after Forget, until signed again
    OcspSingleResponse single;
    std::chrono::system_clock::time_point this_update, next_update;  // of `answer`
    std::chrono::system_clock::time_point checked;  // status last read from the store
    std::chrono::system_clock::time_point due;      // next background look
    uint64_t generation = 0;                        // responder certificate signed under
    bool served = false;                            // asked for since signed
  };
  struct Job {
    std::string key;
    std::vector<std::function<void(Answer)>> waiting;
  };
  using Due = std::pair<std::chrono::system_clock::time_point, std::string>;

  OcspResponder(CertificateStore& store, const Clock& clock, OcspPolicy policy);
  int FindResponder(const OcspCertId& id) const;
  static std::string Key(size_t responder, const OcspCertId& id);
  // Reads the store and signs: the answer for `key`, installed in memory.
  Answer Fill(const std::string& key);
  // Signs `single` for `responder` and installs it under `key` unless a Forget came after
  // the status was read (`forgets` then); the answer, or nullptr if signing failed.
  Answer Sign(const std::string& key, size_t responder, const OcspSingleResponse& single,
              std::chrono::system_clock::time_point checked, uint64_t forgets);
  void Schedule(Entry& entry, const std::string& key);  // mutex_ held
  void EvictIfFull();                                   // mutex_ held
  void Work();
  void Refresh();

  CertificateStore& store_;
  const Clock& clock_;
  const OcspPolicy policy_;
  std::vector<Responder> responders_;
  const Answer malformed_, unauthorized_, try_later_;

  mutable std::mutex mutex_;
  std::atomic<uint64_t> forgets_{0};  // Forget calls so far
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_map<std::string, std::chrono::system_clock::time_point> unknown_;  // until
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> schedule_;
  std::deque<std::string> urgent_;             // keys whose answers Forget or a renewal dropped
  std::unordered_map<std::string, Job> jobs_;  // misses being resolved, by key
  std::deque<std::string> queue_;              // misses waiting for a worker
  std::condition_variable wake_workers_, wake_refresher_;
  bool running_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tessera::ca
