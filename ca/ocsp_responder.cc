#include "ca/ocsp_responder.h"

#include <botan/hash.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "hsm/token_key.h"
#include "platform/log.h"
#include "platform/status_macros.h"

namespace tessera::ca {
namespace {

using std::chrono::system_clock;

constexpr char kSha1[] = "1.3.14.3.2.26";
constexpr char kSha256[] = "2.16.840.1.101.3.4.2.1";
// Entries looked at in one background pass, and serials per status query: a pass stays short
// even when a million answers are in memory.
constexpr size_t kPassBudget = 20000;
constexpr size_t kStatusBatch = 1000;
// A failed status read is retried this soon; the answers in memory stay valid meanwhile.
constexpr auto kRetryAfterFailure = std::chrono::seconds(5);

std::vector<uint8_t> Hash(const char* algorithm, const std::vector<uint8_t>& data) {
  auto hash = Botan::HashFunction::create_or_throw(algorithm);
  hash->update(data);
  return Botan::unlock(hash->final());
}

// tessera-ca renews responder certificates and records them; the token keeps the ceremony's.
// The newest unrevoked one recorded for this key wins.
absl::StatusOr<std::shared_ptr<const Botan::X509_Certificate>> NewestRecorded(
    CertificateStore& store, const std::string& issuer, const Botan::Public_Key& key,
    std::shared_ptr<const Botan::X509_Certificate> newest) {
  const std::vector<uint8_t> spki = key.subject_public_key();
  CertificateFilter filter{.issuer = issuer, .profile = kOcspResponderProfile, .page_size = 1000};
  filter.revoked = false;
  for (;;) {
    TESSERA_ASSIGN_OR_RETURN(std::vector<CertificateRecord> page, store.List(filter));
    for (const CertificateRecord& record : page) {
      if (record.state != CertificateState::kIssued || record.subject_public_key != spki) continue;
      if (record.not_after > newest->not_after().to_std_timepoint()) {
        newest = std::make_shared<const Botan::X509_Certificate>(record.der);
      }
    }
    if (static_cast<int>(page.size()) < filter.page_size) return newest;
    filter.page_token = page.back().serial;
  }
}

// What the store says of `id` for the CA `issuer`: good, revoked, or unknown (never issued
// here, issued by another of our CAs, or an intent never signed).
OcspSingleResponse FromStatus(const OcspCertId& id, const std::string& issuer,
                              const CertificateStatus* status) {
  OcspSingleResponse single{.id = id, .status = OcspCertStatus::kUnknown};
  if (status == nullptr || status->issuer != issuer || status->state != CertificateState::kIssued) {
    return single;
  }
  if (status->revoked_at.has_value()) {
    single.status = OcspCertStatus::kRevoked;
    single.revoked_at = *status->revoked_at;
    single.reason = status->revocation_reason.value_or(0);
  } else {
    single.status = OcspCertStatus::kGood;
  }
  return single;
}

bool SameStatus(const OcspSingleResponse& a, const OcspSingleResponse& b) {
  return a.status == b.status && a.revoked_at == b.revoked_at && a.reason == b.reason;
}

std::shared_ptr<const std::vector<uint8_t>> Shared(std::vector<uint8_t> bytes) {
  return std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
}

}  // namespace

OcspResponder::OcspResponder(CertificateStore& store, const Clock& clock, OcspPolicy policy)
    : store_(store),
      clock_(clock),
      policy_(policy),
      malformed_(Shared(OcspErrorResponse(OcspError::kMalformedRequest))),
      unauthorized_(Shared(OcspErrorResponse(OcspError::kUnauthorized))),
      try_later_(Shared(OcspErrorResponse(OcspError::kTryLater))) {}

absl::StatusOr<std::unique_ptr<OcspResponder>> OcspResponder::Create(
    CertificateStore& store, const std::map<std::string, std::unique_ptr<Issuer>>& issuers,
    std::shared_ptr<hsm::Token> token, const Clock& clock, OcspPolicy policy) {
  std::unique_ptr<OcspResponder> responder(new OcspResponder(store, clock, policy));
  for (const auto& [name, issuer] : issuers) {
    const std::string label = OcspResponderName(name);
    const std::vector<uint8_t> id(label.begin(), label.end());
    Responder r;
    r.issuer = name;
    const Botan::X509_Certificate& ca = issuer->certificate();
    r.name_sha1 = Hash("SHA-1", ca.raw_subject_dn());
    r.key_sha1 = Hash("SHA-1", ca.subject_public_key_bitstring());
    r.name_sha256 = Hash("SHA-256", ca.raw_subject_dn());
    r.key_sha256 = Hash("SHA-256", ca.subject_public_key_bitstring());
    {
      TESSERA_ASSIGN_OR_RETURN(hsm::Token::Lease lease, token->Acquire());
      absl::StatusOr<std::vector<uint8_t>> der = lease->ReadCertificate(id);
      if (!der.ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat("OCSP responder '", label,
                         "' has no certificate on the token: ", der.status().message()));
      }
      r.certificate = std::make_shared<const Botan::X509_Certificate>(*der);
    }
    TESSERA_ASSIGN_OR_RETURN(r.key, hsm::LoadTokenKey(token, id));
    TESSERA_ASSIGN_OR_RETURN(r.certificate, NewestRecorded(store, name, *r.key, r.certificate));
    responder->responders_.push_back(std::move(r));
  }
  return responder;
}

void OcspResponder::Start() {
  std::lock_guard lock(mutex_);
  if (running_) return;
  running_ = true;
  for (int i = 0; i < std::max(1, policy_.workers); ++i) threads_.emplace_back([this] { Work(); });
  threads_.emplace_back([this] { Refresh(); });
}

void OcspResponder::Stop() {
  std::vector<std::function<void(Answer)>> unanswered;
  {
    std::lock_guard lock(mutex_);
    if (!running_) return;
    running_ = false;
    // Queued first requests get tryLater; the ones a worker holds finish normally.
    for (const std::string& key : queue_) {
      auto node = jobs_.extract(key);
      if (node.empty()) continue;
      for (auto& done : node.mapped().waiting) unanswered.push_back(std::move(done));
    }
    queue_.clear();
  }
  wake_workers_.notify_all();
  wake_refresher_.notify_all();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  for (auto& done : unanswered) done(try_later_);
}

int OcspResponder::FindResponder(const OcspCertId& id) const {
  const bool sha1 = id.hash_oid == kSha1;
  for (size_t i = 0; i < responders_.size(); ++i) {
    const Responder& r = responders_[i];
    if (id.issuer_name_hash == (sha1 ? r.name_sha1 : r.name_sha256) &&
        id.issuer_key_hash == (sha1 ? r.key_sha1 : r.key_sha256)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// The answer must echo the request's CertID, and a CertID is fixed by the responder (issuer
// name and key hashes), the hash algorithm and the serial: that is the key.
std::string OcspResponder::Key(size_t responder, const OcspCertId& id) {
  return absl::StrCat(responder, id.hash_oid == kSha1 ? ":1:" : ":2:", id.serial);
}

OcspResponder::Lookup OcspResponder::Find(std::span<const uint8_t> request) {
  absl::StatusOr<OcspRequestData> parsed = ParseOcspRequest(request, 1);
  if (!parsed.ok()) return {malformed_, ""};
  const OcspCertId& id = parsed->certificates.front();
  const int responder = FindResponder(id);
  if (responder < 0) return {unauthorized_, ""};
  std::string key = Key(responder, id);
  const auto now = clock_.Now();
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(key); it != entries_.end()) {
    Entry& entry = it->second;
    if (entry.answer != nullptr && now < entry.next_update) {
      entry.served = true;
      return {entry.answer, ""};
    }
  }
  if (auto it = unknown_.find(key); it != unknown_.end() && now < it->second) {
    return {unauthorized_, ""};
  }
  return {nullptr, std::move(key)};
}

bool OcspResponder::Resolve(const std::string& miss, std::function<void(Answer)> done) {
  {
    std::lock_guard lock(mutex_);
    if (!running_) return false;
    if (auto it = jobs_.find(miss); it != jobs_.end()) {
      it->second.waiting.push_back(std::move(done));
      return true;
    }
    if (queue_.size() >= policy_.max_queued) return false;
    Job& job = jobs_[miss];
    job.key = miss;
    job.waiting.push_back(std::move(done));
    queue_.push_back(miss);
  }
  wake_workers_.notify_one();
  return true;
}

std::vector<uint8_t> OcspResponder::Respond(std::span<const uint8_t> request) {
  Lookup lookup = Find(request);
  if (lookup.answer == nullptr) lookup.answer = Fill(lookup.miss);
  return *lookup.answer;
}

void OcspResponder::Work() {
  for (;;) {
    std::string key;
    {
      std::unique_lock lock(mutex_);
      wake_workers_.wait(lock, [this] { return !running_ || !queue_.empty(); });
      if (!running_) return;
      key = std::move(queue_.front());
      queue_.pop_front();
    }
    const Answer answer = Fill(key);
    std::vector<std::function<void(Answer)>> waiting;
    {
      std::lock_guard lock(mutex_);
      auto node = jobs_.extract(key);
      if (!node.empty()) waiting = std::move(node.mapped().waiting);
    }
    for (auto& done : waiting) done(answer);
  }
}

OcspResponder::Answer OcspResponder::Fill(const std::string& key) {
  // Key: "<responder>:<1|2>:<serial>".
  const size_t first = key.find(':');
  const size_t responder = std::stoul(key.substr(0, first));
  const Responder& r = responders_.at(responder);
  const bool sha1 = key[first + 1] == '1';
  OcspCertId id{.hash_oid = sha1 ? kSha1 : kSha256,
                .issuer_name_hash = sha1 ? r.name_sha1 : r.name_sha256,
                .issuer_key_hash = sha1 ? r.key_sha1 : r.key_sha256,
                .serial = key.substr(first + 3)};
  const auto now = clock_.Now();
  {
    // Another worker or the refresher may have signed it meanwhile.
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(key);
        it != entries_.end() && it->second.answer != nullptr && now < it->second.next_update) {
      it->second.served = true;
      return it->second.answer;
    }
  }
  const uint64_t forgets = forgets_.load();
  absl::StatusOr<std::vector<CertificateStatus>> statuses = store_.Statuses({id.serial});
  if (!statuses.ok()) return try_later_;  // the database is down or busy: not remembered
  const OcspSingleResponse single =
      FromStatus(id, r.issuer, statuses->empty() ? nullptr : &statuses->front());
  if (single.status == OcspCertStatus::kUnknown) {
    std::lock_guard lock(mutex_);
    if (unknown_.size() >= policy_.max_unknown) {
      std::erase_if(unknown_, [&](const auto& item) { return item.second <= now; });
      if (unknown_.size() >= policy_.max_unknown) unknown_.clear();
    }
    unknown_[key] = now + policy_.unknown_ttl;
    return unauthorized_;
  }
  Answer answer = Sign(key, responder, single, now, forgets);
  if (answer == nullptr) return try_later_;
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(key); it != entries_.end()) it->second.served = true;
  return answer;
}

OcspResponder::Answer OcspResponder::Sign(const std::string& key, size_t responder,
                                          const OcspSingleResponse& single,
                                          system_clock::time_point checked, uint64_t forgets) {
  const Responder& r = responders_[responder];
  std::shared_ptr<const Botan::X509_Certificate> certificate;
  uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    certificate = r.certificate;
    generation = r.generation;
  }
  const auto now = std::chrono::floor<std::chrono::seconds>(clock_.Now());
  const auto next_update = now + policy_.validity;
  absl::StatusOr<std::vector<uint8_t>> der =
      SignOcspResponse({single}, {now, now, next_update}, std::nullopt, *certificate, *r.key);
  if (!der.ok()) {
    LogEvent(spdlog::level::warn, "ocsp_sign_failed",
             {{"issuer", r.issuer},
              {"serial", single.id.serial},
              {"error", std::string(der.status().message())}});
    return nullptr;
  }
  Answer answer = Shared(*std::move(der));
  std::lock_guard lock(mutex_);
  // A status read before a revocation this process has since seen must not be kept: the
  // answer goes to whoever asked at that moment, and the entry is signed again.
  if (forgets_.load() != forgets) {
    urgent_.push_back(key);
    wake_refresher_.notify_one();
    return answer;
  }
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    EvictIfFull();
    it = entries_.emplace(key, Entry{}).first;
  }
  Entry& entry = it->second;
  entry.id = single.id;
  entry.responder = responder;
  entry.answer = answer;
  entry.single = single;
  entry.this_update = now;
  entry.next_update = next_update;
  entry.checked = checked;
  entry.generation = generation;
  entry.served = false;
  unknown_.erase(key);
  Schedule(entry, key);
  return answer;
}

void OcspResponder::Schedule(Entry& entry, const std::string& key) {
  entry.due =
      std::min(entry.checked + policy_.status_ttl, entry.this_update + policy_.validity / 2);
  schedule_.emplace(entry.due, key);
}

void OcspResponder::EvictIfFull() {
  if (entries_.size() < policy_.max_entries) return;
  // Any 1 %: evicted answers are signed again when next asked for.
  size_t drop = std::max<size_t>(1, policy_.max_entries / 100);
  for (auto it = entries_.begin(); it != entries_.end() && drop > 0; --drop) {
    it = entries_.erase(it);
  }
}

void OcspResponder::Forget(const std::string& serial) {
  {
    std::lock_guard lock(mutex_);
    ++forgets_;
    for (size_t responder = 0; responder < responders_.size(); ++responder) {
      for (const char* hash : {kSha1, kSha256}) {
        const std::string key = Key(responder, {.hash_oid = hash, .serial = serial});
        unknown_.erase(key);
        auto it = entries_.find(key);
        if (it == entries_.end()) continue;
        it->second.answer = nullptr;
        urgent_.push_back(key);
      }
    }
  }
  wake_refresher_.notify_one();
}

void OcspResponder::Refresh() {
  std::unique_lock lock(mutex_);
  while (running_) {
    wake_refresher_.wait_for(lock, policy_.poll, [this] { return !running_ || !urgent_.empty(); });
    if (!running_) break;
    lock.unlock();
    RefreshOnce();
    lock.lock();
  }
}

int OcspResponder::RefreshOnce() {
  const auto now = clock_.Now();
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mutex_);
    std::set<std::string> seen;
    for (const std::string& key : urgent_) {
      if (seen.insert(key).second) keys.push_back(key);
    }
    urgent_.clear();
    while (!schedule_.empty() && schedule_.top().first <= now && keys.size() < kPassBudget) {
      const auto [due, key] = schedule_.top();
      schedule_.pop();
      auto it = entries_.find(key);
      if (it == entries_.end() || it->second.due != due) continue;  // superseded
      if (seen.insert(key).second) keys.push_back(key);
    }
  }
  if (keys.empty()) return 0;

  const uint64_t forgets = forgets_.load();
  std::map<std::string, CertificateStatus> statuses;
  for (size_t i = 0; i < keys.size(); i += kStatusBatch) {
    std::vector<std::string> serials;
    {
      std::lock_guard lock(mutex_);
      for (size_t j = i; j < std::min(keys.size(), i + kStatusBatch); ++j) {
        if (auto it = entries_.find(keys[j]); it != entries_.end()) {
          serials.push_back(it->second.id.serial);
        }
      }
    }
    absl::StatusOr<std::vector<CertificateStatus>> read = store_.Statuses(serials);
    if (!read.ok()) {
      LogEvent(spdlog::level::warn, "ocsp_refresh_failed",
               {{"error", std::string(read.status().message())}});
      std::lock_guard lock(mutex_);
      for (const std::string& key : keys) {
        auto it = entries_.find(key);
        if (it == entries_.end()) continue;
        if (it->second.answer == nullptr) {
          urgent_.push_back(key);
          continue;
        }
        it->second.due = now + kRetryAfterFailure;
        schedule_.emplace(it->second.due, key);
      }
      return 0;
    }
    for (CertificateStatus& status : *read) statuses[status.serial] = std::move(status);
  }

  int signed_now = 0;
  for (const std::string& key : keys) {
    Entry entry;
    uint64_t generation = 0;
    {
      std::lock_guard lock(mutex_);
      auto it = entries_.find(key);
      if (it == entries_.end()) continue;
      entry = it->second;
      generation = responders_[entry.responder].generation;
    }
    const Responder& r = responders_[entry.responder];
    auto status = statuses.find(entry.id.serial);
    const OcspSingleResponse single =
        FromStatus(entry.id, r.issuer, status == statuses.end() ? nullptr : &status->second);
    const bool old =
        now >= entry.this_update + policy_.validity / 2 || entry.generation != generation;
    if (single.status == OcspCertStatus::kUnknown ||
        (old && !entry.served && entry.answer != nullptr)) {
      // Gone from the store (never expected), or nobody asked since it was signed: let it go;
      // the next request signs it again.
      std::lock_guard lock(mutex_);
      entries_.erase(key);
      continue;
    }
    if (!SameStatus(single, entry.single) || entry.answer == nullptr || old) {
      if (Sign(key, entry.responder, single, now, forgets) != nullptr) ++signed_now;
      continue;
    }
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) continue;
    it->second.checked = now;
    Schedule(it->second, key);
  }
  return signed_now;
}

size_t OcspResponder::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::vector<OcspResponder::Signer> OcspResponder::Signers() const {
  std::lock_guard lock(mutex_);
  std::vector<Signer> signers;
  for (const Responder& r : responders_) signers.push_back({r.issuer, r.certificate, r.key.get()});
  return signers;
}

absl::Status OcspResponder::ReplaceCertificate(
    const std::string& issuer, std::shared_ptr<const Botan::X509_Certificate> certificate) {
  {
    std::lock_guard lock(mutex_);
    auto r = std::find_if(responders_.begin(), responders_.end(),
                          [&](const Responder& r) { return r.issuer == issuer; });
    if (r == responders_.end()) {
      return absl::NotFoundError(absl::StrCat("issuer '", issuer, "': no OCSP responder"));
    }
    // Botan 2: subject_public_key_bits() is the whole SPKI; the bit string is the key itself.
    if (certificate->subject_public_key_bitstring() != r->key->public_key_bits()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "certificate: does not certify the key of responder '", OcspResponderName(issuer), "'"));
    }
    r->certificate = std::move(certificate);
    ++r->generation;
    // Answers signed under the old certificate stay valid until it expires (renewal comes
    // days before): re-signed in the background, a pass's budget at a time.
    const size_t index = static_cast<size_t>(r - responders_.begin());
    const auto now = clock_.Now();
    for (auto& [key, entry] : entries_) {
      if (entry.responder != index) continue;
      entry.due = now;
      schedule_.emplace(now, key);
    }
  }
  wake_refresher_.notify_one();
  return absl::OkStatus();
}

}  // namespace tessera::ca
