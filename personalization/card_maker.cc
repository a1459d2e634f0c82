#include "personalization/card_maker.h"

#include <botan/x509self.h>

#include "absl/strings/str_cat.h"
#include "hsm/token.h"
#include "hsm/token_key.h"
#include "personalization/card_proof.h"
#include "platform/random.h"
#include "platform/status_macros.h"

namespace tessera::personalization {

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

absl::Status CardMaker::InitializeToken(const CardToMake& card,
                                        const CardCredentials& credentials) {
  absl::StatusOr<hsm::TokenInfo> found = cards_->FindTokenByLabel(card.card_number);
  if (found.status().code() == absl::StatusCode::kNotFound) {
    return cards_->InitToken(card.card_number, credentials.puk, credentials.pin).status();
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
                                           const std::function<void(CardStep)>& starting) {
  TESSERA_ASSIGN_OR_RETURN(std::optional<CardRecord> stored, journal_.Load(card.card_number));
  CardRecord record = stored.value_or(CardRecord{.card_number = card.card_number});
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

  if (record.done < CardStep::kToken) {
    if (starting) starting(CardStep::kToken);
    TESSERA_RETURN_IF_ERROR(InitializeToken(card, credentials));
    TESSERA_RETURN_IF_ERROR(done(CardStep::kToken));
  }
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<hsm::Token> token,
                           hsm::Token::Login(cards_, card.card_number, credentials.pin));

  // A key pair generated before a crash but not recorded is the card's: never a second one.
  absl::StatusOr<std::unique_ptr<Botan::Private_Key>> key = hsm::LoadTokenKey(token, kCardKeyId);
  if (record.done < CardStep::kKey) {
    if (starting) starting(CardStep::kKey);
    if (key.status().code() == absl::StatusCode::kNotFound) {
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
      return absl::InternalError(absl::StrCat("request signed on the card: ", e.what()));
    }
    TESSERA_RETURN_IF_ERROR(done(CardStep::kRequest));
  }

  if (record.done < CardStep::kCertificate) {
    if (starting) starting(CardStep::kCertificate);
    TESSERA_ASSIGN_OR_RETURN(std::vector<uint8_t> certificate,
                             certifier_.Certify(card, record.request));
    try {
      TESSERA_RETURN_IF_ERROR(
          CheckCertificateMatchesKey(Botan::X509_Certificate(certificate), **key));
    } catch (const std::exception& e) {
      return absl::FailedPreconditionError(absl::StrCat("the CA's answer: ", e.what()));
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
