#include "registry/card_login.h"

#include <botan/hex.h>
#include <botan/pubkey.h>
#include <botan/x509cert.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "access/card_signature.h"
#include "access/session_token.h"
#include "identity/codice_fiscale.h"
#include "platform/log.h"
#include "platform/random.h"
#include "platform/status_macros.h"

namespace tessera::registry {
namespace {

std::string RandomHex(size_t bytes) {
  const Botan::secure_vector<uint8_t> random = ThreadRng().random_vec(bytes);
  return Botan::hex_encode(random.data(), random.size(), false);
}

// A refusal: logged with what the person and machine were, returned as is.
absl::Status Refuse(absl::Status status, std::string_view codice_fiscale, const Machine& machine) {
  LogEvent(spdlog::level::warn, "login_refused",
           {{"person", std::string(codice_fiscale)},
            {"machine", machine.principal.name},
            {"status", std::string(absl::StatusCodeToString(status.code()))},
            {"reason", std::string(status.message())}});
  return status;
}

}  // namespace

std::string LoginMessage(const std::string& challenge_id, const std::string& codice_fiscale,
                         const std::string& machine_sha256, const std::string& nonce_hex) {
  return absl::StrCat("tessera card login v1\n", challenge_id, "\n", codice_fiscale, "\n",
                      machine_sha256, "\n", nonce_hex, "\n");
}

absl::StatusOr<CardLogin::Challenge> CardLogin::Begin(std::string_view codice_fiscale,
                                                      const Machine& machine) {
  const std::string code = identity::NormalizeCodiceFiscale(codice_fiscale);
  if (absl::Status valid = identity::ValidateCodiceFiscale(code); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("codice_fiscale: ", valid.message()));
  }
  if (absl::StatusOr<access::Office> office = access::OfficeOfMachine(machine.principal);
      !office.ok()) {
    return Refuse(office.status(), code, machine);
  }
  const auto now = clock_.Now();
  LoginChallenge challenge{.id = RandomHex(16),
                           .codice_fiscale = code,
                           .machine = machine.principal.name,
                           .machine_sha256 = machine.sha256,
                           .created_at = now,
                           .expires_at = now + limits_.challenge_life};
  challenge.to_sign = LoginMessage(challenge.id, code, machine.sha256, RandomHex(32));
  TESSERA_RETURN_IF_ERROR(store_.PutChallenge(challenge));
  return Challenge{challenge.id, challenge.to_sign, challenge.expires_at};
}

absl::StatusOr<CardLogin::Issued> CardLogin::Complete(
    const std::string& challenge_id, const std::vector<uint8_t>& signature,
    const std::vector<uint8_t>& card_certificate_der, const Machine& machine) {
  const auto now = clock_.Now();
  absl::StatusOr<LoginChallenge> challenge = store_.TakeChallenge(challenge_id, now);
  if (!challenge.ok()) {
    if (challenge.status().code() == absl::StatusCode::kNotFound) {
      return Refuse(absl::UnauthenticatedError("challenge_id: no such login challenge"), "-",
                    machine);
    }
    if (challenge.status().code() == absl::StatusCode::kFailedPrecondition) {
      return Refuse(absl::UnauthenticatedError(
                        "challenge_id: this challenge was used already; begin the login again"),
                    "-", machine);
    }
    return challenge.status();
  }
  absl::StatusOr<access::Office> office = access::OfficeOfMachine(machine.principal);
  absl::StatusOr<Issued> issued =
      office.ok() ? CheckAndOpen(*challenge, signature, card_certificate_der, machine, *office)
                  : absl::StatusOr<Issued>(office.status());
  if (!issued.ok()) {
    if (issued.status().code() == absl::StatusCode::kUnavailable ||
        issued.status().code() == absl::StatusCode::kInternal) {
      return issued.status();
    }
    return Refuse(issued.status(), challenge->codice_fiscale, machine);
  }
  LogEvent(spdlog::level::info, "login",
           {{"person", issued->session.codice_fiscale},
            {"machine", machine.principal.name},
            {"office", issued->session.office},
            {"session", issued->session.id},
            {"profiles", absl::StrJoin(issued->session.profiles, ",")}});
  return issued;
}

absl::StatusOr<CardLogin::Issued> CardLogin::CheckAndOpen(
    const LoginChallenge& challenge, const std::vector<uint8_t>& signature,
    const std::vector<uint8_t>& card_certificate_der, const Machine& machine,
    const access::Office& office) {
  const auto now = clock_.Now();
  if (now >= challenge.expires_at) {
    return absl::UnauthenticatedError(absl::StrCat("challenge_id: the challenge expired at ",
                                                   UtcText(challenge.expires_at),
                                                   "; begin the login again"));
  }
  if (challenge.machine_sha256 != machine.sha256) {
    return absl::UnauthenticatedError(
        "challenge_id: the challenge was given to another machine than this connection's");
  }
  std::unique_ptr<Botan::X509_Certificate> card;
  try {
    card = std::make_unique<Botan::X509_Certificate>(card_certificate_der);
  } catch (const std::exception& e) {
    return absl::UnauthenticatedError(
        absl::StrCat("card_certificate: not a DER certificate: ", e.what()));
  }
  absl::StatusOr<CertificateCaller> holder = trust_.Verify(*card, now);
  if (!holder.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("card_certificate: ", holder.status().message()));
  }
  if (holder->principal.kind != PrincipalKind::kOperator) {
    return absl::UnauthenticatedError(
        absl::StrCat("card_certificate: a ", std::string(PrincipalKindName(holder->principal.kind)),
                     " certificate, not a card's (OU=Operatori)"));
  }
  if (identity::PersonKey(holder->principal.name) !=
      identity::PersonKey(challenge.codice_fiscale)) {
    return absl::UnauthenticatedError(absl::StrCat("card_certificate: the card is ",
                                                   holder->principal.name, "'s, not ",
                                                   challenge.codice_fiscale, "'s"));
  }
  if (absl::Status live = revocation_.Check(holder->principal); !live.ok()) {
    if (live.code() == absl::StatusCode::kUnavailable) return live;
    return absl::UnauthenticatedError(absl::StrCat("card_certificate: ", live.message()));
  }
  try {
    std::unique_ptr<Botan::Public_Key> key(card->subject_public_key());
    Botan::PK_Verifier verifier(*key, access::CardSignatureScheme(*key));
    if (!verifier.verify_message(reinterpret_cast<const uint8_t*>(challenge.to_sign.data()),
                                 challenge.to_sign.size(), signature.data(), signature.size())) {
      return absl::UnauthenticatedError(
          "signature: does not verify with the card's certificate (signed by another card, or "
          "not over to_sign)");
    }
  } catch (const std::exception& e) {
    return absl::UnauthenticatedError(absl::StrCat("signature: unverifiable: ", e.what()));
  }

  TESSERA_ASSIGN_OR_RETURN(LoginStanding standing,
                           store_.StandingOf(challenge.codice_fiscale, office));
  if (!standing.known) {
    return absl::PermissionDeniedError(
        absl::StrCat(challenge.codice_fiscale, " is no user on record"));
  }
  if (standing.live_card_serial != holder->principal.serial) {
    return absl::PermissionDeniedError(
        absl::StrCat("card_certificate: serial ", holder->principal.serial, " is not ",
                     standing.codice_fiscale, "'s live card (ended, replaced, or not produced)"));
  }
  std::vector<std::string> profiles;
  if (office.kind == access::Office::Kind::kMinistero) {
    if (!standing.ministry_operator) {
      return absl::PermissionDeniedError(absl::StrCat(
          standing.codice_fiscale, " is no Ministry operator: a Ministry machine is not theirs"));
    }
    profiles = {access::kMinistryOperatorProfile};
  } else {
    if (standing.profiles.empty()) {
      return absl::PermissionDeniedError(
          absl::StrCat(standing.codice_fiscale, " has no profiles at ", office.Text(),
                       ", the office of machine ", machine.principal.name));
    }
    profiles = standing.profiles;
  }

  // Never past the card certificate's own end.
  return Open(standing.codice_fiscale, std::move(profiles), office, machine, "card",
              holder->principal.serial, holder->not_after);
}

absl::StatusOr<CardLogin::Issued> CardLogin::Open(const std::string& codice_fiscale,
                                                  std::vector<std::string> profiles,
                                                  const access::Office& office,
                                                  const Machine& machine, const std::string& method,
                                                  const std::string& card_serial,
                                                  std::chrono::system_clock::time_point ends_at) {
  const auto now = clock_.Now();
  SessionRecord session{.id = RandomHex(16),
                        .codice_fiscale = codice_fiscale,
                        .office = office.Text(),
                        .profiles = std::move(profiles),
                        .machine = machine.principal.name,
                        .machine_sha256 = machine.sha256,
                        .method = method,
                        .card_serial = card_serial,
                        .started_at = now,
                        .expires_at = now + limits_.session_life,
                        .renew_until = std::min(now + limits_.working_day, ends_at)};
  session.expires_at = std::min(session.expires_at, session.renew_until);
  TESSERA_RETURN_IF_ERROR(store_.OpenSession(session));
  TESSERA_ASSIGN_OR_RETURN(std::string token, Sign(session));
  return Issued{std::move(token), std::move(session)};
}

absl::StatusOr<std::string> CardLogin::Sign(const SessionRecord& session) const {
  access::SessionClaims claims{.session_id = session.id,
                               .person = session.codice_fiscale,
                               .office = session.office,
                               .profiles = session.profiles,
                               .workstation_sha256 = access::Thumbprint(session.machine_sha256),
                               .issued_at = clock_.Now(),
                               .expires_at = session.expires_at};
  return access::SignSession(claims, *signing_key_.key, signing_key_.key_id);
}

absl::StatusOr<CardLogin::Issued> CardLogin::Renew(const Principal& caller) {
  if (!caller.session) {
    return absl::UnauthenticatedError("no session to renew: log in with the card");
  }
  TESSERA_ASSIGN_OR_RETURN(SessionRecord session, store_.GetSession(caller.session->id));
  const auto now = clock_.Now();
  if (session.ended_at) return absl::UnauthenticatedError("the session has ended");
  if (now >= session.renew_until) {
    return absl::UnauthenticatedError(absl::StrCat("the session may not be renewed past ",
                                                   UtcText(session.renew_until),
                                                   " (a working day): log in with the card again"));
  }
  session.expires_at = std::min(now + limits_.session_life, session.renew_until);
  TESSERA_RETURN_IF_ERROR(store_.ExtendSession(session.id, session.expires_at));
  TESSERA_ASSIGN_OR_RETURN(std::string token, Sign(session));
  return Issued{std::move(token), std::move(session)};
}

absl::Status CardLogin::Logout(const Principal& caller) {
  if (!caller.session) return absl::UnauthenticatedError("no session to end");
  TESSERA_ASSIGN_OR_RETURN(bool live,
                           store_.EndSession(caller.session->id, "logout", clock_.Now()));
  if (live) {
    LogEvent(spdlog::level::info, "logout",
             {{"person", caller.session->person}, {"session", caller.session->id}});
  }
  return absl::OkStatus();
}

absl::StatusOr<int> CardLogin::EndSessionsOfRevokedCards() {
  const auto now = clock_.Now();
  // Cards come from the CA trusted for operators (ClientTrust).
  std::string card_issuer;
  for (const TrustedIssuer& issuer : trust_.issuers()) {
    if (std::find(issuer.kinds.begin(), issuer.kinds.end(), PrincipalKind::kOperator) !=
        issuer.kinds.end()) {
      card_issuer = issuer.name;
    }
  }
  TESSERA_ASSIGN_OR_RETURN(std::vector<SessionRecord> live, store_.LiveCardSessions(now));
  int ended = 0;
  for (const SessionRecord& session : live) {
    const Principal card{PrincipalKind::kOperator, session.codice_fiscale, card_issuer,
                         session.card_serial};
    const absl::Status status = revocation_.Check(card);
    if (status.code() != absl::StatusCode::kUnauthenticated) continue;  // good, or not known now
    TESSERA_ASSIGN_OR_RETURN(bool was_live, store_.EndSession(session.id, "card_revoked", now));
    if (!was_live) continue;
    ++ended;
    LogEvent(spdlog::level::warn, "session_ended",
             {{"person", session.codice_fiscale},
              {"session", session.id},
              {"reason", "card_revoked"},
              {"card_serial", session.card_serial}});
  }
  return ended;
}

absl::StatusOr<int> CardLogin::EndSessionsOf(const std::string& codice_fiscale,
                                             const std::string& office, const std::string& reason) {
  return store_.EndSessionsOf(codice_fiscale, office, reason, clock_.Now());
}

absl::StatusOr<OfficeUser> CardLogin::UserAt(const std::string& office,
                                             const std::string& codice_fiscale) {
  absl::StatusOr<access::Office> parsed = access::ParseOffice(office);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "office: '", office, "' is none of comune:<ISTAT>, prefettura:<province code>, ministero"));
  }
  TESSERA_ASSIGN_OR_RETURN(std::optional<OfficeUser> user, store_.UserAt(codice_fiscale, *parsed));
  if (!user.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("codice_fiscale: ", codice_fiscale, " is no user of ", office, " on record"));
  }
  return *std::move(user);
}

absl::StatusOr<access::SessionState> CardLogin::State(int64_t cursor) {
  TESSERA_ASSIGN_OR_RETURN(access::SessionState state, store_.EndedSince(cursor, clock_.Now()));
  state.keys = {{signing_key_.key_id, signing_key_.public_key_pem}};
  // Once a Ministry operator has logged in, the bootstrap is over for good: asked no more.
  if (!ministry_operator_logged_in_) {
    TESSERA_ASSIGN_OR_RETURN(bool logged_in, store_.MinistryOperatorLoggedIn());
    ministry_operator_logged_in_ = logged_in;
  }
  state.ministry_certificate_acts = !ministry_operator_logged_in_;
  return state;
}

}  // namespace tessera::registry
