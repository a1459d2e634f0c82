// A hash-chained audit trail. Every state change and every signature of a service writes one
// record (who, from which workstation, what, the ids before and after, the request id, when) in
// the same transaction as the change. Each record carries the SHA-256 of the record before it
// in its chain, so editing, deleting or reordering a record breaks every link after it; and
// every so often an anchor signs the chain's head with a key on the HSM, so that rewriting the
// whole tail with fresh hashes is caught too (the attacker has the database, not the token).
//
// VerifyChain walks a chain in sequence order and names the first broken link.
#pragma once

#include <botan/pk_keys.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::audit {

struct AuditRecord {
  int64_t sequence = 0;     // 1, 2, 3 … within its chain, no gaps
  std::string actor;        // who: "person:RSSMRA85T10H501O", "service:tessera-perso", …
  std::string workstation;  // the workstation certificate's fingerprint, empty if none
  std::string action;       // what: "census.submit", "certificate.revoke", …
  std::string before;       // the ids (and states) before, as the service words them
  std::string after;        // … and after
  std::string request_id;
  std::chrono::system_clock::time_point at;
  std::string previous_hash;  // hex SHA-256 of record sequence-1; kGenesis for the first
  std::string hash;           // hex SHA-256 of this record's content and previous_hash
};

inline constexpr char kGenesis[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

// The record's hash (hex SHA-256) over an unambiguous encoding of every field but `hash`.
std::string RecordHash(const AuditRecord& record);

// `next` made the record after `previous` (or the first of its chain): its sequence, previous
// hash and hash filled in.
AuditRecord Chain(AuditRecord next, const AuditRecord* previous);

// A signature over a chain's head: its name, the record's sequence and hash, when.
struct Anchor {
  std::string chain;  // e.g. "tessera-registry"
  int64_t sequence = 0;
  std::string hash;
  std::chrono::system_clock::time_point at;
  std::vector<uint8_t> signature;  // ECDSA P-256 / SHA-256 (IEEE 1363 r || s) or RSA PKCS#1
};

// An anchor on `head` signed with `key` (on the HSM: hsm::LoadTokenKey's).
absl::StatusOr<Anchor> SignAnchor(const std::string& chain, const AuditRecord& head,
                                  std::chrono::system_clock::time_point at,
                                  const Botan::Private_Key& key);

struct ChainReport {
  int64_t records = 0;  // records walked
  int64_t anchors = 0;  // anchors checked
  // The first broken link, in words ("record 5: …"); empty when the chain holds.
  std::string first_break;
  bool ok() const { return first_break.empty(); }
};

// Walks `records` (as read, ordered by sequence) and `anchors` of chain `chain`, checking each
// anchor's signature with `anchor_key`. The anchors must cover the chain's head as of the last
// one; records after the last anchor are checked by their links only.
ChainReport VerifyChain(const std::string& chain, const std::vector<AuditRecord>& records,
                        const std::vector<Anchor>& anchors, const Botan::Public_Key& anchor_key);

}  // namespace tessera::audit
