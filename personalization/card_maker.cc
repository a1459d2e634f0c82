#include "personalization/card_maker.h"

#include <botan/x509self.h>

#include "absl/strings/str_cat.h"
#include "hsm/attributes.h"
#include "hsm/token.h"
#include "hsm/token_key.h"
#include "personalization/card_proof.h"
#include "platform/log.h"
#include "platform/random.h"
#include "platform/status_macros.h"

namespace tessera::personalization {
namespace {

// A failure that says the card itself is spoiled (its token gone or unreadable, its key
// unusable), not that a service or the database is away.
bool Spoiled(const absl::Status& failure) {
  return failure.code() == absl::StatusCode::kDataLoss ||
         failure.code() == absl::StatusCode::kInternal;
}

// Every object with the card key's CKA_ID: what a key generation cut short left on the card.
absl::Status RemoveKeyLeftovers(hsm::Token& token) {
  TESSERA_ASSIGN_OR_RETURN(hsm::Token::Lease lease, token.Acquire());
  hsm::Attributes match;
  match.Bytes(CKA_ID, kCardKeyId);
  TESSERA_ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> found, lease->FindObjects(match));
  for (CK_OBJECT_HANDLE object : found) TESSERA_RETURN_IF_ERROR(lease->DestroyObject(object));
  return absl::OkStatus();
}

}  // namespace

bool IsCardNumber(const std::string& text) {
  return text.size() == 16 && text.find_first_not_of("0123456789") == std::string::npos;
}

std::string CardRequestId(const std::string& card_number, int attempt) {
  return attempt == 0 ? absl::StrCat("card-", card_number)
                      : absl::StrCat("card-", card_number, "-", attempt + 1);
}

std::string_view CardStepName(CardStep step) {
  switch (step) {
    case CardStep::kNone:
      return "none";
    case CardStep::kCredentials:
      return "credentials";
    case CardStep::kToken:
      return "token";
    case CardStep::kKey:
      return "key";
    case CardStep::kRequest:
      return "request";
    case CardStep::kCertificate:
      return "certificate";
    case CardStep::kWritten:
      return "written";
    case CardStep::kProved:
      return "proved";
  }
  return "?";
}

absl::Status CardMaker::InitializeToken(const CardToMake& card, const CardCredentials& credentials,
                                        std::optional<CK_SLOT_ID> reader_slot) {
  absl::StatusOr<hsm::TokenInfo> found = cards_->FindTokenByLabel(card.card_number, reader_slot);
  if (found.status().code() == absl::StatusCode::kNotFound) {
    return cards_->InitToken(card.card_number, credentials.puk, credentials.pin, reader_slot)
        .status();
  }
  TESSERA_RETURN_IF_ERROR(found.status());
  // A token with the card's label: this card's, initialized before a crash that came before
  // the step was recorded. Its SO PIN is the card's PUK, or it is not this card's token.
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<hsm::Session> session,
                           hsm::Session::Open(cards_, found->slot));
  if (absl::Status so = session->Login(CKU_SO, credentials.puk); !so.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "token '", card.card_number, "' exists and is not this card's (", so.message(), ")"));
  }
  if (!found->user_pin_initialized) TESSERA_RETURN_IF_ERROR(session->InitPin(credentials.pin));
  return session->Logout();
}

absl::StatusOr<CardRecord> CardMaker::Make(const CardToMake& card,
                                           const std::function<void(CardStep)>& starting,
                                           std::optional<CK_SLOT_ID> reader_slot) {
  TESSERA_ASSIGN_OR_RETURN(std::optional<CardRecord> stored, journal_.Load(card.card_number));
  CardRecord record = stored.value_or(CardRecord{.card_number = card.card_number});
  // Proved before its outcome was reported: done, whether or not its token is still here
  // (personalization/token_archive.h).
  if (record.done == CardStep::kProved) return record;
  auto done = [&](CardStep step) {
    record.done = step;
    return journal_.Save(record);
  };

  CardCredentials credentials;
  if (record.done < CardStep::kCredentials) {
    if (starting) starting(CardStep::kCredentials);
    credentials = NewCardCredentials();
    TESSERA_ASSIGN_OR_RETURN(record.envelope,
                             SealHalves(sealer_, card.card_number, credentials, Half::kEnvelope));
    TESSERA_ASSIGN_OR_RETURN(record.mail,
                             SealHalves(sealer_, card.card_number, credentials, Half::kMail));
    TESSERA_RETURN_IF_ERROR(done(CardStep::kCredentials));
  } else {
    TESSERA_ASSIGN_OR_RETURN(
        credentials, OpenCredentials(sealer_, card.card_number, record.envelope, record.mail));
  }

  absl::StatusOr<CardRecord> made = MakeOnCard(card, credentials, record, starting, reader_slot);
  if (made.ok() || !Spoiled(made.status())) return made;
  TESSERA_RETURN_IF_ERROR(StartAgain(card, credentials, record, reader_slot, made.status()));
  return absl::AbortedError(absl::StrCat("card ", card.card_number, " starts again (attempt ",
                                         record.attempt + 1, "): ", made.status().message()));
}

absl::Status CardMaker::StartAgain(const CardToMake& card, const CardCredentials& credentials,
                                   CardRecord& record, std::optional<CK_SLOT_ID> reader_slot,
                                   const absl::Status& why) {
  // Spoiled: its token unreadable or not here (a card pulled out mid-write, a process killed
  // while SoftHSM wrote the token's files, a card left in the reader of a station that died),
  // or its key unusable. First the attempt's certificate, if the CA issued one (perhaps just
  // before a crash, unrecorded: asking again with the same request gets it back), is
  // withdrawn, so that every certificate is on a card or revoked.
  std::vector<uint8_t> issued = record.certificate;
  if (issued.empty() && record.done >= CardStep::kRequest) {
    absl::StatusOr<std::vector<uint8_t>> again =
        certifier_.Certify(card, record.request, record.attempt);
    if (again.ok()) {
      issued = *std::move(again);
    } else if (again.status().code() == absl::StatusCode::kUnavailable ||
               again.status().code() == absl::StatusCode::kDeadlineExceeded) {
      return again.status();
    }
  }
  if (!issued.empty()) TESSERA_RETURN_IF_ERROR(certifier_.Withdraw(card, issued));
  LogEvent(spdlog::level::warn, "card_restarted",
           {{"card", card.card_number},
            {"after", std::string(CardStepName(record.done))},
            {"attempt", std::to_string(record.attempt + 2)},
            {"error", std::string(why.message())}});
  // A key left on a token that can still be read is removed so that a new one is generated.
  if (absl::StatusOr<std::shared_ptr<hsm::Token>> readable =
          hsm::Token::Login(cards_, card.card_number, credentials.pin, reader_slot);
      readable.ok()) {
    TESSERA_RETURN_IF_ERROR(RemoveKeyLeftovers(**readable));
  }
  record.done = CardStep::kCredentials;
  record.request.clear();
  record.certificate.clear();
  ++record.attempt;
  if (record.attempt >= kCardAttempts) {
    TESSERA_RETURN_IF_ERROR(journal_.Save(record));
    return absl::FailedPreconditionError(absl::StrCat("card ", card.card_number,
                                                      ": given up after ", kCardAttempts,
                                                      " attempts: ", why.message()));
  }
  return journal_.Save(record);
}

absl::Status CardMaker::Release(const CardToMake& card, std::optional<CK_SLOT_ID> reader_slot,
                                bool produced) {
  if (reader_slot) return cards_->LetGo(*reader_slot);
  if (shelf_ && produced) return shelf_->Shelve(card.card_number);
  return absl::OkStatus();
}

absl::Status CardMaker::Abandon(const CardToMake& card) {
  TESSERA_ASSIGN_OR_RETURN(std::optional<CardRecord> record, journal_.Load(card.card_number));
  if (!record || record->certificate.empty()) return absl::OkStatus();
  TESSERA_RETURN_IF_ERROR(certifier_.Withdraw(card, record->certificate));
  LogEvent(spdlog::level::warn, "card_abandoned",
           {{"card", card.card_number}, {"after", std::string(CardStepName(record->done))}});
  return absl::OkStatus();
}

absl::StatusOr<CardRecord> CardMaker::MakeOnCard(const CardToMake& card,
                                                 const CardCredentials& credentials,
                                                 CardRecord& record,
                                                 const std::function<void(CardStep)>& starting,
                                                 std::optional<CK_SLOT_ID> reader_slot) {
  auto done = [&](CardStep step) {
    record.done = step;
    return journal_.Save(record);
  };
  if (record.done < CardStep::kToken) {
    if (starting) starting(CardStep::kToken);
    TESSERA_RETURN_IF_ERROR(InitializeToken(card, credentials, reader_slot));
    TESSERA_RETURN_IF_ERROR(done(CardStep::kToken));
  }
  absl::StatusOr<std::shared_ptr<hsm::Token>> logged_in =
      hsm::Token::Login(cards_, card.card_number, credentials.pin, reader_slot);
  if (logged_in.status().code() == absl::StatusCode::kNotFound) {
    return absl::DataLossError(absl::StrCat(
        "token '", card.card_number, "' is gone or unreadable: ", logged_in.status().message()));
  }
  TESSERA_RETURN_IF_ERROR(logged_in.status());
  const std::shared_ptr<hsm::Token> token = *std::move(logged_in);

  // A whole key pair generated before a crash but not recorded is the card's: never a second
  // one. Anything less (a generation the process did not live through left a public key
  // alone, or two) is removed first: no request was signed with it yet.
  absl::StatusOr<std::unique_ptr<Botan::Private_Key>> key = hsm::LoadTokenKey(token, kCardKeyId);
  if (record.done < CardStep::kKey) {
    if (starting) starting(CardStep::kKey);
    if (key.status().code() == absl::StatusCode::kNotFound ||
        key.status().code() == absl::StatusCode::kFailedPrecondition) {
      TESSERA_RETURN_IF_ERROR(RemoveKeyLeftovers(*token));
      key = hsm::GenerateTokenKey(
          token, {.algorithm = algorithm_, .id = kCardKeyId, .label = card.card_number});
    }
    TESSERA_RETURN_IF_ERROR(key.status());
    TESSERA_RETURN_IF_ERROR(done(CardStep::kKey));
  }
  TESSERA_RETURN_IF_ERROR(key.status());

  if (record.done < CardStep::kRequest) {
    if (starting) starting(CardStep::kRequest);
    // The CA builds the subject from the order, not from the request: the request proves the
    // card holds the key.
    Botan::X509_Cert_Options options;
    options.common_name = card.codice_fiscale;
    options.country = "IT";
    try {
      record.request =
          Botan::X509::create_cert_req(options, **key, "SHA-256", ThreadRng()).BER_encode();
    } catch (const std::exception& e) {
      // A reader's glitch stays UNAVAILABLE (signed again); a key that cannot sign spoils the
      // card (INTERNAL: it starts again).
      return hsm::SignatureFailure(e, "request signed on the card", absl::StatusCode::kInternal);
    }
    TESSERA_RETURN_IF_ERROR(done(CardStep::kRequest));
  }

  if (record.done < CardStep::kCertificate) {
    if (starting) starting(CardStep::kCertificate);
    TESSERA_ASSIGN_OR_RETURN(std::vector<uint8_t> certificate,
                             certifier_.Certify(card, record.request, record.attempt));
    absl::Status matches;
    try {
      matches = CheckCertificateMatchesKey(Botan::X509_Certificate(certificate), **key);
    } catch (const std::exception& e) {
      matches = absl::FailedPreconditionError(absl::StrCat("the CA's answer: ", e.what()));
    }
    if (!matches.ok()) {
      // Issued, and of no use on this card: withdrawn before the card fails.
      TESSERA_RETURN_IF_ERROR(certifier_.Withdraw(card, certificate));
      return matches;
    }
    record.certificate = std::move(certificate);
    TESSERA_RETURN_IF_ERROR(done(CardStep::kCertificate));
  }
  const Botan::X509_Certificate certificate(record.certificate);

  if (record.done < CardStep::kWritten) {
    if (starting) starting(CardStep::kWritten);
    TESSERA_ASSIGN_OR_RETURN(hsm::Token::Lease lease, token->Acquire());
    absl::StatusOr<std::vector<uint8_t>> on_card = lease->ReadCertificate(kCardKeyId);
    if (on_card.status().code() == absl::StatusCode::kNotFound) {
      TESSERA_RETURN_IF_ERROR(
          lease->WriteCertificate(kCardKeyId, card.card_number, record.certificate).status());
    } else if (!on_card.ok()) {
      return on_card.status();
    } else if (*on_card != record.certificate) {
      return absl::FailedPreconditionError(
          absl::StrCat("token '", card.card_number, "' holds another certificate"));
    }
    TESSERA_RETURN_IF_ERROR(done(CardStep::kWritten));
  }

  if (record.done < CardStep::kProved) {
    if (starting) starting(CardStep::kProved);
    TESSERA_RETURN_IF_ERROR(ProveCard(token, kCardKeyId, certificate));
    TESSERA_RETURN_IF_ERROR(done(CardStep::kProved));
  }
  return record;
}

}  // namespace tessera::personalization
