#include "services/dispatch/clients.h"

#include <botan/x509cert.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ca/subject.h"
#include "platform/grpc_status.h"
#include "platform/principal.h"

namespace tessera::dispatch_service {
namespace {

void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
}

}  // namespace

absl::StatusOr<dispatch::CensusEntry> RegistryDirectory::User(const std::string& office,
                                                              const std::string& codice_fiscale) {
  v1::GetOfficeUserRequest request;
  request.set_office(office);
  request.set_codice_fiscale(codice_fiscale);
  grpc::ClientContext context;
  SetDeadline(context);
  v1::OfficeUser user;
  if (grpc::Status status = stub_->GetOfficeUser(&context, request, &user); !status.ok()) {
    return FromGrpcStatus(status, "tessera-registry");
  }
  dispatch::CensusEntry entry{.person = {.codice_fiscale = user.codice_fiscale(),
                                         .surname = user.surname(),
                                         .name = user.name()},
                              .email = user.email(),
                              .profiles = {user.profiles().begin(), user.profiles().end()}};
  return entry;
}

absl::StatusOr<dispatch::OfficeContact> RegistryDirectory::Place(const std::string& office) {
  v1::GetOfficeContactRequest request;
  request.set_office(office);
  grpc::ClientContext context;
  SetDeadline(context);
  v1::OfficeContact contact;
  if (grpc::Status status = stub_->GetOfficeContact(&context, request, &contact); !status.ok()) {
    return FromGrpcStatus(status, "tessera-registry");
  }
  return dispatch::OfficeContact{
      .name = contact.name(), .address = contact.address(), .pec = contact.pec()};
}

absl::StatusOr<std::vector<std::string>> PersoLots::Sealed() {
  // tessera-perso lists at most 1000 lots a call, newest first: those not handed over yet (the
  // older ones come into view as these are taken), then the latest ones whether handed over or
  // not (a hand-over whose recording here was cut short).
  std::vector<std::string> numbers;
  std::set<std::string> seen;
  for (const bool include_handed_over : {false, true}) {
    v1::ListLotsRequest request;
    request.set_include_handed_over(include_handed_over);
    grpc::ClientContext context;
    SetDeadline(context);
    v1::ListLotsResponse response;
    if (grpc::Status status = stub_->ListLots(&context, request, &response); !status.ok()) {
      return FromGrpcStatus(status, "tessera-perso");
    }
    // Oldest first: lots reach the prefetture in the order they were sealed.
    for (auto lot = response.lots().rbegin(); lot != response.lots().rend(); ++lot) {
      if (seen.insert(lot->lot_number()).second) numbers.push_back(lot->lot_number());
    }
  }
  return numbers;
}

absl::StatusOr<dispatch::LotIntake> PersoLots::HandOver(const std::string& lot_number) {
  v1::HandOverLotRequest request;
  request.set_lot_number(lot_number);
  grpc::ClientContext context;
  SetDeadline(context);
  v1::Lot lot;
  if (grpc::Status status = stub_->HandOverLot(&context, request, &lot); !status.ok()) {
    return FromGrpcStatus(status, "tessera-perso");
  }
  return IntakeOf(lot);
}

absl::StatusOr<dispatch::Halves> PersoLots::Release(const std::string& card_number,
                                                    const std::string& request_id) {
  v1::ReleaseMailHalvesRequest request;
  request.set_card_number(card_number);
  request.set_request_id(request_id);
  grpc::ClientContext context;
  SetDeadline(context);
  v1::MailHalves halves;
  if (grpc::Status status = stub_->ReleaseMailHalves(&context, request, &halves); !status.ok()) {
    return FromGrpcStatus(status, "tessera-perso");
  }
  dispatch::Halves released{.pin = Secret(halves.pin_half()),
                            .puk = Secret(halves.puk_half()),
                            .password = Secret(halves.password_half())};
  for (std::string* text :
       {halves.mutable_pin_half(), halves.mutable_puk_half(), halves.mutable_password_half()}) {
    std::fill(text->begin(), text->end(), '\0');
  }
  return released;
}

absl::StatusOr<dispatch::LotIntake> IntakeOf(const v1::Lot& lot) {
  dispatch::LotIntake intake{.lot_number = lot.lot_number(),
                             .batch_id = lot.batch_id(),
                             .office = lot.office(),
                             .office_name = lot.office_name(),
                             .prefettura = lot.prefettura()};
  absl::Time sealed_at;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, lot.sealed_at(), &sealed_at, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("lot ", lot.lot_number(), ": sealed_at '", lot.sealed_at(), "': ", error));
  }
  intake.sealed_at = absl::ToChronoTime(sealed_at);
  for (const v1::LotCard& card : lot.cards()) {
    try {
      const Botan::X509_Certificate certificate(
          std::vector<uint8_t>(card.certificate().begin(), card.certificate().end()));
      intake.cards.push_back({.card_number = card.card_number(),
                              .codice_fiscale = card.codice_fiscale(),
                              .surname = card.surname(),
                              .name = card.name(),
                              .subject_dn = ca::Rfc2253(certificate.subject_dn()),
                              .certificate_serial = SerialHex(certificate.serial_number())});
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(absl::StrCat(
          "lot ", lot.lot_number(), ", card ", card.card_number(), ": certificate: ", e.what()));
    }
  }
  return intake;
}

}  // namespace tessera::dispatch_service
