// Card login: a person proves who they are with their smart card at a certified machine, and
// gets a session for the office of that machine.
//
//   Begin(codice fiscale) over a machine's connection → a challenge (once, one minute, for that
//     machine's certificate), the bytes the card signs naming purpose, person, machine, nonce;
//   Complete(challenge, signature, card certificate) → checks, in order: the challenge is
//     known, unused, unexpired and this machine's; the certificate is a card certificate of the
//     operators CA (signature, dates), of that codice fiscale, not revoked; the card signed the
//     challenge; the person is on record, this card is their live card, and they may work at
//     the machine's office (profiles in its submitted census; the Ministry: a Ministry
//     operator). Then a session (30 minutes, renewable up to 10 hours after login) and its
//     token, signed with the registry's session key (on its HSM).
//
// Every refusal is UNAUTHENTICATED (the credentials) or PERMISSION_DENIED (the person may not
// work here), names the reason, is logged (login_refused) and changes nothing but using up the
// challenge.
#pragma once

#include <botan/pk_keys.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "access/office.h"
#include "access/session_gate.h"
#include "platform/clock.h"
#include "platform/principal.h"
#include "platform/revocation.h"
#include "registry/login_store.h"

namespace tessera::registry {

struct LoginLimits {
  std::chrono::seconds challenge_life{60};
  std::chrono::seconds session_life{30 * 60};
  std::chrono::seconds working_day{10 * 3600};  // how long renewals may keep a session going
};

// The key the registry signs sessions with: on its HSM in production (hsm::LoadTokenKey).
struct SessionSigningKey {
  const Botan::Private_Key* key = nullptr;  // EC P-256
  std::string key_id;                       // published with the public key
  std::string public_key_pem;
};

// The connection a login call came over: its certificate's principal and SHA-256.
struct Machine {
  Principal principal;
  std::string sha256;
};

class CardLogin {
 public:
  CardLogin(LoginStore& store, const ClientTrust& trust, RevocationCheck& revocation,
            SessionSigningKey signing_key, const Clock& clock, LoginLimits limits = {})
      : store_(store),
        trust_(trust),
        revocation_(revocation),
        signing_key_(std::move(signing_key)),
        clock_(clock),
        limits_(limits) {}

  struct Challenge {
    std::string id;
    std::string to_sign;
    std::chrono::system_clock::time_point expires_at;
  };
  // INVALID_ARGUMENT for a malformed codice fiscale; PERMISSION_DENIED from a connection that
  // is no office's machine. A challenge is given whether or not the person exists (Complete
  // says, once the card has proved who asks).
  absl::StatusOr<Challenge> Begin(std::string_view codice_fiscale, const Machine& machine);

  struct Issued {
    std::string token;
    SessionRecord session;
  };
  absl::StatusOr<Issued> Complete(const std::string& challenge_id,
                                  const std::vector<uint8_t>& signature,
                                  const std::vector<uint8_t>& card_certificate_der,
                                  const Machine& machine);

  // Opens a session (records it, signs its token): `profiles` at `office` for the person at
  // `machine`, proven by `method` ("card": `card_serial` is the card's), lasting session_life
  // and never past `ends_at` (a card certificate's end, a daily password's day).
  absl::StatusOr<Issued> Open(const std::string& codice_fiscale, std::vector<std::string> profiles,
                              const access::Office& office, const Machine& machine,
                              const std::string& method, const std::string& card_serial,
                              std::chrono::system_clock::time_point ends_at);

  // A new token for the caller's live session, expiring session_life from now but never after
  // its renew_until. UNAUTHENTICATED without a session or past renew_until.
  absl::StatusOr<Issued> Renew(const Principal& caller);
  // Ends the caller's session.
  absl::Status Logout(const Principal& caller);
  // Ends every live card session whose card certificate is revoked (the registry's CRLs): run
  // at each CRL refresh, so a card reported lost shuts its sessions within seconds. How many.
  absl::StatusOr<int> EndSessionsOfRevokedCards();
  // Ends every live session of the person at `office` ("" for all: blocked, deleted; "ministero"
  // when they stop being a Ministry operator), at every service within seconds.
  absl::StatusOr<int> EndSessionsOf(const std::string& codice_fiscale, const std::string& office,
                                    const std::string& reason);

  // `codice_fiscale` as a user of `office` (access::Office::Text()): INVALID_ARGUMENT naming the
  // field for a malformed office, NOT_FOUND when they are none.
  absl::StatusOr<OfficeUser> UserAt(const std::string& office, const std::string& codice_fiscale);

  // What services verify sessions with (GetSessionState).
  absl::StatusOr<access::SessionState> State(int64_t cursor);

 private:
  absl::StatusOr<Issued> CheckAndOpen(const LoginChallenge& challenge,
                                      const std::vector<uint8_t>& signature,
                                      const std::vector<uint8_t>& card_certificate_der,
                                      const Machine& machine, const access::Office& office);
  absl::StatusOr<std::string> Sign(const SessionRecord& session) const;

  LoginStore& store_;
  const ClientTrust& trust_;
  RevocationCheck& revocation_;
  const SessionSigningKey signing_key_;
  const Clock& clock_;
  const LoginLimits limits_;
  std::atomic<bool> ministry_operator_logged_in_{false};
};

// The bytes a card signs to log in (the challenge's to_sign): a fixed purpose line, then the
// challenge id, the codice fiscale, the machine certificate's SHA-256 and a 256-bit nonce in
// hex, one per line. A signature over them can serve no other purpose nor machine.
std::string LoginMessage(const std::string& challenge_id, const std::string& codice_fiscale,
                         const std::string& machine_sha256, const std::string& nonce_hex);

}  // namespace tessera::registry
