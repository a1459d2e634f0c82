#include "personalization/pg_card_journal.h"

#include "absl/strings/str_cat.h"
#include "platform/status_macros.h"

std::vector<tessera::pg::Migration> PersoMigrations();  // generated from migrations/

namespace tessera::personalization {
namespace {

constexpr CardStep kSteps[] = {CardStep::kNone,    CardStep::kCredentials, CardStep::kToken,
                               CardStep::kKey,     CardStep::kRequest,     CardStep::kCertificate,
                               CardStep::kWritten, CardStep::kProved};

absl::StatusOr<CardStep> StepNamed(std::string_view name) {
  for (CardStep step : kSteps) {
    if (CardStepName(step) == name) return step;
  }
  return absl::DataLossError(absl::StrCat("perso.cards: unknown step '", std::string(name), "'"));
}

pg::Param Blob(const std::vector<uint8_t>& bytes) {
  return bytes.empty() ? pg::Param(std::nullopt) : pg::Param::Bytes(bytes);
}

}  // namespace

std::vector<pg::Migration> PgMigrations() { return PersoMigrations(); }

absl::StatusOr<std::optional<CardRecord>> PgCardJournal::Load(const std::string& card_number) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  TESSERA_ASSIGN_OR_RETURN(
      pg::Result r,
      conn->Exec("SELECT done, envelope_pin, envelope_puk, envelope_password, mail_pin, mail_puk, "
                 "mail_password, request, certificate, attempt FROM perso.cards WHERE "
                 "card_number = $1",
                 {pg::Param(card_number)}));
  if (r.rows() == 0) return std::optional<CardRecord>();
  CardRecord record{.card_number = card_number};
  TESSERA_ASSIGN_OR_RETURN(record.done, StepNamed(r.Text(0, 0)));
  auto bytes = [&](int column) {
    return r.IsNull(0, column) ? std::vector<uint8_t>() : r.Bytes(0, column);
  };
  record.envelope = {bytes(1), bytes(2), bytes(3)};
  record.mail = {bytes(4), bytes(5), bytes(6)};
  record.request = bytes(7);
  record.certificate = bytes(8);
  record.attempt = static_cast<int>(r.Int(0, 9));
  return std::optional<CardRecord>(std::move(record));
}

absl::Status PgCardJournal::Save(const CardRecord& r) {
  TESSERA_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  return conn
      ->Exec(
          "INSERT INTO perso.cards (card_number, done, envelope_pin, envelope_puk, "
          "envelope_password, mail_pin, mail_puk, mail_password, request, certificate, "
          "updated_at, attempt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
          "to_timestamp($11), $12) "
          "ON CONFLICT (card_number) DO UPDATE SET done = EXCLUDED.done, envelope_pin = "
          "EXCLUDED.envelope_pin, envelope_puk = EXCLUDED.envelope_puk, envelope_password = "
          "EXCLUDED.envelope_password, mail_pin = EXCLUDED.mail_pin, mail_puk = "
          "EXCLUDED.mail_puk, mail_password = EXCLUDED.mail_password, request = "
          "EXCLUDED.request, certificate = EXCLUDED.certificate, updated_at = "
          "EXCLUDED.updated_at, attempt = EXCLUDED.attempt",
          {pg::Param(r.card_number), pg::Param(std::string(CardStepName(r.done))),
           Blob(r.envelope.pin), Blob(r.envelope.puk), Blob(r.envelope.password), Blob(r.mail.pin),
           Blob(r.mail.puk), Blob(r.mail.password), Blob(r.request), Blob(r.certificate),
           pg::Param(UnixSeconds(clock_.Now())), pg::Param(r.attempt)})
      .status();
}

}  // namespace tessera::personalization
