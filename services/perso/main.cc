// tessera-perso: the personalization daemon. Its readers make the cards and workstation bundles
// of every running batch (personalization/station.h); its gRPC API over mTLS lets the Ministry
// create, run, pause, cancel and watch batches (services/perso/handlers.cc).
//
//   tessera-perso --config <file.toml>
//
// Config keys (each overridable by TESSERA_<KEY> in the environment):
//   grpc.listen, grpc.port_file, tls.*, trust.*   as every service (platform/service_main.h);
//                          the TLS identity (service certificate tessera-perso) is also the one
//                          it presents to tessera-ca and tessera-registry
//   revocation.crl_url     where tessera-ca serves the issuing CAs' CRLs
//   db.conninfo            libpq connection string; migrations of schema "perso" run at start
//   db.max_connections     default 8
//   ca.target              tessera-ca's gRPC address, host:port (the host its certificate names)
//   registry.target        tessera-registry's gRPC address, likewise (orders; and the session
//                          keys and ended sessions persons' sessions are checked with)
//   perso.station          this daemon's name, the same across restarts (default: host name)
//   perso.readers          card readers (worker threads) of this daemon, default 4
//   perso.lease_seconds    how long an order this daemon claimed stays its own at the registry
//                          (60 to 86400, default 900): another daemon takes over the cards of
//                          one that died when this runs out
//   perso.spool            directory of the lots' print files (created 0700 if missing); the
//                          envelope files (0600) stay there until `tessera batch printed`
//   cards.module           PKCS#11 module of the card readers (SoftHSM, the virtual reader
//                          module, opensc-pkcs11.so)
//   cards.key_algorithm    ec-p256 (default) or rsa-2048
//   cards.reader_slots     true for a card line (OpenSC's readers, the virtual reader module):
//                          reader n works only on the card in the module's n-th slot and waits
//                          for a card there; false (default, SoftHSM): any free slot
//   cards.archive          SoftHSM only: at start, the tokens of cards in sealed lots move out
//                          of the live token store into <archive>/lot-<number>/ (unset: they
//                          stay; personalization/token_archive.h)
//   vault.module           PKCS#11 module of the token keeping the halves' sealing key
//   vault.token            its label
//   vault.seal_key         label of the AES key sealing the halves (default "card-halves";
//                          created on first start if missing)
//   audit.*                the audit chain's anchor key, on the vault token
//                          (services/audit/anchoring.h)
//   log.level              debug | info | warn | error (default info)
// The vault token's PIN comes from TESSERA_VAULT_PIN (or a 0600 file named by
// TESSERA_VAULT_PIN_FILE), never from the config file.
#include <unistd.h>

#include <string>

#include "hsm/module.h"
#include "hsm/secret_sealer.h"
#include "hsm/token.h"
#include "personalization/batches.h"
#include "personalization/card_maker.h"
#include "personalization/pg_batches.h"
#include "personalization/pg_card_journal.h"
#include "personalization/pg_lots.h"
#include "personalization/station.h"
#include "personalization/token_archive.h"
#include "platform/files.h"
#include "platform/log.h"
#include "platform/migrations.h"
#include "platform/periodic.h"
#include "platform/pg_pool.h"
#include "platform/process.h"
#include "platform/rpc_client.h"
#include "platform/service_main.h"
#include "platform/status_macros.h"
#include "services/audit/anchoring.h"
#include "services/perso/ca_bundler.h"
#include "services/perso/ca_certifier.h"
#include "services/perso/handlers.h"
#include "services/perso/registry_orders.h"
#include "services/sessions/registry_sessions.h"

namespace tessera {
namespace {

constexpr char kName[] = "tessera-perso";

absl::StatusOr<hsm::KeyAlgorithm> CardKeyAlgorithm(const Config& config) {
  TESSERA_ASSIGN_OR_RETURN(std::string name, config.StringOr("cards.key_algorithm", "ec-p256"));
  if (name == "ec-p256") return hsm::KeyAlgorithm::kEcP256;
  if (name == "rsa-2048") return hsm::KeyAlgorithm::kRsa2048;
  return absl::InvalidArgumentError("cards.key_algorithm: ec-p256 or rsa-2048");
}

absl::Status Serve(const std::string& config_path) {
  TESSERA_ASSIGN_OR_RETURN(ServiceStart start, StartService(kName, config_path));
  TESSERA_RETURN_IF_ERROR(UseCrlRevocation(start));
  const Config& config = start.config;
  TESSERA_ASSIGN_OR_RETURN(Secret vault_pin, TakeSecretFromEnv("TESSERA_VAULT_PIN"));
  TESSERA_ASSIGN_OR_RETURN(std::string conninfo, config.String("db.conninfo"));
  TESSERA_ASSIGN_OR_RETURN(int64_t max_connections, config.IntOr("db.max_connections", 8));
  TESSERA_ASSIGN_OR_RETURN(std::string ca_target, config.String("ca.target"));
  TESSERA_ASSIGN_OR_RETURN(std::string registry_target, config.String("registry.target"));
  TESSERA_ASSIGN_OR_RETURN(std::string station_name,
                           config.StringOr("perso.station", HostName("perso")));
  TESSERA_ASSIGN_OR_RETURN(int64_t readers, config.IntOr("perso.readers", 4));
  TESSERA_ASSIGN_OR_RETURN(int64_t lease_seconds, config.IntOr("perso.lease_seconds", 900));
  TESSERA_ASSIGN_OR_RETURN(std::string spool, config.String("perso.spool"));
  TESSERA_ASSIGN_OR_RETURN(std::string cards_module, config.String("cards.module"));
  TESSERA_ASSIGN_OR_RETURN(hsm::KeyAlgorithm algorithm, CardKeyAlgorithm(config));
  TESSERA_ASSIGN_OR_RETURN(std::string archive, config.StringOr("cards.archive", ""));
  TESSERA_ASSIGN_OR_RETURN(bool reader_slots, config.BoolOr("cards.reader_slots", false));
  TESSERA_ASSIGN_OR_RETURN(std::string vault_module, config.String("vault.module"));
  TESSERA_ASSIGN_OR_RETURN(std::string vault_token, config.String("vault.token"));
  TESSERA_ASSIGN_OR_RETURN(std::string seal_key, config.StringOr("vault.seal_key", "card-halves"));
  if (readers < 1 || readers > 64) return absl::InvalidArgumentError("perso.readers: 1 to 64");
  if (lease_seconds < 60 || lease_seconds > 86400) {
    return absl::InvalidArgumentError("perso.lease_seconds: 60 to 86400");
  }
  // It names the readers' claims at the registry: "<station>:reader-<n>".
  if (station_name.empty() || station_name.size() > 50 ||
      station_name.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
          "._-") != std::string::npos) {
    return absl::InvalidArgumentError("perso.station: 1 to 50 letters, digits and . _ -");
  }

  // Every reader and the handlers at once, and room for the beat.
  pg::ConnectionPool pool(
      conninfo, std::max(static_cast<size_t>(max_connections), static_cast<size_t>(readers) + 4));
  TESSERA_RETURN_IF_ERROR(
      pg::MigrateAtStart(pool, personalization::kPgSchema, personalization::PgMigrations()));

  personalization::PgLotStore lot_store(pool);
  // Before anything opens the card module (the vault may be the same SoftHSM): archiving
  // finalizes it while the tokens move.
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<hsm::Module> cards, hsm::Module::Load(cards_module));
  if (!archive.empty()) {
    TESSERA_RETURN_IF_ERROR(personalization::ArchiveSealedCards(
                                cards,
                                [&lot_store](const std::vector<std::string>& card_numbers) {
                                  return lot_store.SealedLotsOf(card_numbers);
                                },
                                archive)
                                .status());
  }
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<hsm::Module> vault, hsm::Module::Load(vault_module));
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<hsm::Token> vault_session,
                           hsm::Token::Login(vault, vault_token, vault_pin));
  TESSERA_ASSIGN_OR_RETURN(hsm::SecretSealer sealer,
                           hsm::SecretSealer::Open(vault_session, seal_key, true));

  // tessera-perso calls tessera-ca and tessera-registry as itself.
  TESSERA_ASSIGN_OR_RETURN(ChannelTo channel_to, ChannelsAsItself(start));
  std::shared_ptr<grpc::Channel> ca = channel_to(ca_target);
  std::shared_ptr<grpc::Channel> registry = channel_to(registry_target);
  // Persons' sessions are checked at this door from what the registry publishes.
  sessions::RegistrySessions person_sessions = sessions::UseRegistrySessions(registry, start.rpc);

  SystemClock clock;
  // Every change is in the audit chain; its head is signed with a key on the vault token.
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<audit_service::AuditAnchoring> audit_anchoring,
                           audit_service::AuditAnchoring::Start(config, vault_session, pool,
                                                                personalization::kPgSchema, clock));
  personalization::PgCardJournal journal(pool, clock);
  perso_service::CaCertifier certifier(ca);
  perso_service::CaBundler bundler(ca);
  personalization::CardMaker maker(cards, sealer, journal, certifier, algorithm);
  if (!archive.empty() && !reader_slots) {
    TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<personalization::ProducedCardShelf> shelf,
                             personalization::ProducedCardShelf::Open(cards, archive));
    maker.ShelveProducedCards(std::move(shelf));
  }
  personalization::PgBatchStore batch_store(pool);
  personalization::Batches batches(batch_store, clock);
  personalization::StationOptions station_options{.name = station_name,
                                                  .readers = static_cast<int>(readers)};
  if (reader_slots) {
    TESSERA_ASSIGN_OR_RETURN(std::vector<CK_SLOT_ID> slots, cards->AllSlots());
    if (slots.size() < static_cast<size_t>(readers)) {
      return absl::InvalidArgumentError(absl::StrCat("perso.readers: ", readers,
                                                     " readers, but cards.module has ",
                                                     slots.size(), " reader slots"));
    }
    slots.resize(static_cast<size_t>(readers));
    station_options.reader_slots = std::move(slots);
  }
  personalization::Station station(
      std::move(station_options), batch_store,
      [registry, lease_seconds](const std::string& worker,
                                const personalization::BatchReach& reach) {
        return std::make_unique<perso_service::RegistryOrders>(
            registry, worker, reach, static_cast<uint32_t>(lease_seconds));
      },
      maker, bundler, clock);
  TESSERA_RETURN_IF_ERROR(MakePrivateDirectory(spool));
  personalization::LotDesk lot_desk(lot_store, sealer, spool, clock, archive);
  // Ended batches become sealed lots with their print files within seconds.
  PeriodicTask lots("lots", std::chrono::seconds(2),
                    [&lot_desk] { return lot_desk.SealAndPrint().status(); });
  lots.Start();
  LogEvent(spdlog::level::info, "station_started",
           {{"station", station_name},
            {"readers", std::to_string(readers)},
            {"cards_module", cards_module},
            {"key_algorithm", hsm::KeyAlgorithmName(algorithm)}});
  station.Start();

  perso_service::PersoHandlers handlers(batches, lot_desk, lot_store,
                                        [&station] { return station.Readers(); });
  start.rpc.services = {&handlers};
  start.rpc.rules = perso_service::PersoPolicy(person_sessions.gate);
  const absl::Status served = ServeUntilStopped(std::move(start.rpc), start.port_file);
  station.Stop();
  lots.Stop();
  return served;
}

}  // namespace
}  // namespace tessera

int main(int argc, char** argv) {
  return tessera::ServiceMain(argc, argv, tessera::kName, tessera::Serve);
}
