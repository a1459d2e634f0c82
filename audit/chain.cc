#include "audit/chain.h"

#include <botan/auto_rng.h>
#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/pubkey.h>

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"

namespace tessera::audit {
namespace {

int64_t Micros(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// "<length>:<bytes>;" per field: no two records encode alike.
void Field(std::string& out, const std::string& value) {
  absl::StrAppend(&out, value.size(), ":", value, ";");
}

std::string Sha256Hex(const std::string& bytes) {
  auto sha = Botan::HashFunction::create_or_throw("SHA-256");
  sha->update(bytes);
  return Botan::hex_encode(sha->final(), /*uppercase=*/false);
}

// What an anchor's signature covers.
std::string AnchorMessage(const Anchor& anchor) {
  std::string message = "tessera audit anchor;";
  Field(message, anchor.chain);
  Field(message, std::to_string(anchor.sequence));
  Field(message, anchor.hash);
  Field(message, std::to_string(Micros(anchor.at)));
  return message;
}

std::string SchemeFor(const Botan::Public_Key& key) {
  return key.algo_name() == "RSA" ? "EMSA3(SHA-256)" : "EMSA1(SHA-256)";
}

}  // namespace

std::string RecordHash(const AuditRecord& record) {
  std::string content;
  Field(content, std::to_string(record.sequence));
  Field(content, record.actor);
  Field(content, record.workstation);
  Field(content, record.action);
  Field(content, record.before);
  Field(content, record.after);
  Field(content, record.request_id);
  Field(content, std::to_string(Micros(record.at)));
  Field(content, record.previous_hash);
  return Sha256Hex(content);
}

AuditRecord Chain(AuditRecord next, const AuditRecord* previous) {
  next.sequence = previous == nullptr ? 1 : previous->sequence + 1;
  next.previous_hash = previous == nullptr ? kGenesis : previous->hash;
  next.hash = RecordHash(next);
  return next;
}

absl::StatusOr<Anchor> SignAnchor(const std::string& chain, const AuditRecord& head,
                                  std::chrono::system_clock::time_point at,
                                  const Botan::Private_Key& key) {
  Anchor anchor{.chain = chain, .sequence = head.sequence, .hash = head.hash, .at = at};
  const std::string message = AnchorMessage(anchor);
  try {
    Botan::AutoSeeded_RNG rng;
    Botan::PK_Signer signer(key, rng, SchemeFor(key));
    anchor.signature =
        signer.sign_message(reinterpret_cast<const uint8_t*>(message.data()), message.size(), rng);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("audit anchor not signed: ", e.what()));
  }
  return anchor;
}

ChainReport VerifyChain(const std::string& chain, const std::vector<AuditRecord>& records,
                        const std::vector<Anchor>& anchors, const Botan::Public_Key& anchor_key) {
  ChainReport report;
  std::map<int64_t, const Anchor*> anchor_at;
  for (const Anchor& anchor : anchors) {
    if (anchor.chain == chain) anchor_at[anchor.sequence] = &anchor;
  }
  auto check_anchor = [&](const Anchor& anchor, const AuditRecord* record) -> std::string {
    ++report.anchors;
    const std::string message = AnchorMessage(anchor);
    Botan::PK_Verifier verifier(anchor_key, SchemeFor(anchor_key));
    if (!verifier.verify_message(reinterpret_cast<const uint8_t*>(message.data()), message.size(),
                                 anchor.signature.data(), anchor.signature.size())) {
      return absl::StrCat("anchor at record ", anchor.sequence,
                          ": its signature does not verify (a forged anchor)");
    }
    if (record == nullptr) {
      return absl::StrCat("anchor at record ", anchor.sequence, ": the chain ends at record ",
                          records.empty() ? 0 : records.back().sequence,
                          " (records deleted from its end)");
    }
    if (record->hash != anchor.hash) {
      return absl::StrCat("anchor at record ", anchor.sequence,
                          ": the chain's hash there is not the one signed (records before it "
                          "were rewritten)");
    }
    return "";
  };

  for (size_t i = 0; i < records.size(); ++i) {
    const AuditRecord& record = records[i];
    const int64_t expected = static_cast<int64_t>(i) + 1;
    ++report.records;
    if (record.sequence > expected) {
      report.first_break = absl::StrCat("record ", expected, " is missing (the chain goes from ",
                                        expected - 1, " to ", record.sequence, ")");
      return report;
    }
    if (record.sequence < expected) {
      report.first_break = absl::StrCat("record ", record.sequence, " appears again after record ",
                                        expected - 1, " (records reordered or duplicated)");
      return report;
    }
    const std::string& previous = i == 0 ? std::string(kGenesis) : records[i - 1].hash;
    if (record.previous_hash != previous) {
      report.first_break =
          i == 0 ? "record 1 does not start the chain"
                 : absl::StrCat("record ", record.sequence, " does not follow record ",
                                record.sequence - 1, " (one of them was changed)");
      return report;
    }
    if (RecordHash(record) != record.hash) {
      report.first_break = absl::StrCat("record ", record.sequence,
                                        ": its content does not match its hash (edited)");
      return report;
    }
    if (auto anchor = anchor_at.find(record.sequence); anchor != anchor_at.end()) {
      if (std::string broken = check_anchor(*anchor->second, &record); !broken.empty()) {
        report.first_break = broken;
        return report;
      }
    }
  }
  const int64_t last = records.empty() ? 0 : records.back().sequence;
  for (auto it = anchor_at.upper_bound(last); it != anchor_at.end(); ++it) {
    if (std::string broken = check_anchor(*it->second, nullptr); !broken.empty()) {
      report.first_break = broken;
      return report;
    }
  }
  return report;
}

}  // namespace tessera::audit
