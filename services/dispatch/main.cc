// tessera-dispatch: sealed lots from personalization to their holders. It takes every sealed
// lot over from tessera-perso (its cards SPEDITA to the prefettura of its province), serves the
// delivery API the prefectures' delivery clients call (services/dispatch/handlers.cc), and
// mails each holder the second halves of their card's codes from its outbox.
//
//   tessera-dispatch --config <file.toml>
//
// Config keys (each overridable by TESSERA_<KEY> in the environment):
//   grpc.listen, grpc.port_file, tls.*, trust.*   as every service (platform/service_main.h);
//                          the TLS identity (service certificate tessera-dispatch) is also the
//                          one it presents to tessera-registry and tessera-perso
//   revocation.crl_url     where tessera-ca serves the issuing CAs' CRLs
//   db.conninfo            libpq connection string; migrations of schema "dispatch" run at start
//   db.max_connections     default 8
//   registry.target        tessera-registry's gRPC address, host:port (collectors and holders;
//                          the session keys and ended sessions persons' sessions are checked with)
//   perso.target           tessera-perso's gRPC address (sealed lots, the cards' mail halves)
//   intake.poll_seconds    how often sealed lots are looked for, 1 to 300 (default 5)
//   vault.module           PKCS#11 module of the token keeping this service's keys
//   vault.token            its label
//   vault.seal_key         label of the AES key sealing mail bodies with codes in them until
//                          they are sent (default "outbox-mail"; created on first start)
//   mail.*                 the SMTP relay (services/outbox/outbox_sending.h)
//   mail.personal_email_rules  the rules of a personal mailbox (deploy/reference/
//                          personal_email.txt): second halves never go to a PEC
//   audit.*                the audit chain's anchor key, on the vault token
//                          (services/audit/anchoring.h)
//   log.level              debug | info | warn | error (default info)
// The vault token's PIN comes from TESSERA_VAULT_PIN (or a 0600 file named by
// TESSERA_VAULT_PIN_FILE), never from the config file.
#include <string>

#include "dispatch/desk.h"
#include "dispatch/intake.h"
#include "dispatch/pg_lots.h"
#include "hsm/module.h"
#include "hsm/secret_sealer.h"
#include "hsm/token.h"
#include "mail/personal_email.h"
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
#include "services/dispatch/clients.h"
#include "services/dispatch/handlers.h"
#include "services/outbox/outbox_sending.h"
#include "services/sessions/registry_sessions.h"

namespace tessera {
namespace {

constexpr char kName[] = "tessera-dispatch";
// The purpose sealed mail bodies are bound to (hsm::SecretSealer).
constexpr char kMailSealPurpose[] = "tessera dispatch outbox mail v1";

absl::Status Serve(const std::string& config_path) {
  TESSERA_ASSIGN_OR_RETURN(ServiceStart start, StartService(kName, config_path));
  TESSERA_RETURN_IF_ERROR(UseCrlRevocation(start));
  const Config& config = start.config;
  TESSERA_ASSIGN_OR_RETURN(Secret vault_pin, TakeSecretFromEnv("TESSERA_VAULT_PIN"));
  TESSERA_ASSIGN_OR_RETURN(std::optional<Secret> smtp_password, outbox_service::TakeSmtpPassword());
  TESSERA_ASSIGN_OR_RETURN(std::string conninfo, config.String("db.conninfo"));
  TESSERA_ASSIGN_OR_RETURN(int64_t max_connections, config.IntOr("db.max_connections", 8));
  TESSERA_ASSIGN_OR_RETURN(std::string registry_target, config.String("registry.target"));
  TESSERA_ASSIGN_OR_RETURN(std::string perso_target, config.String("perso.target"));
  TESSERA_ASSIGN_OR_RETURN(int64_t poll_seconds, config.IntOr("intake.poll_seconds", 5));
  TESSERA_ASSIGN_OR_RETURN(std::string vault_module, config.String("vault.module"));
  TESSERA_ASSIGN_OR_RETURN(std::string vault_token, config.String("vault.token"));
  TESSERA_ASSIGN_OR_RETURN(std::string seal_key, config.StringOr("vault.seal_key", "outbox-mail"));
  TESSERA_ASSIGN_OR_RETURN(std::string email_rules_path,
                           config.String("mail.personal_email_rules"));
  if (poll_seconds < 1 || poll_seconds > 300) {
    return absl::InvalidArgumentError("intake.poll_seconds: 1 to 300");
  }
  TESSERA_ASSIGN_OR_RETURN(mail::PersonalEmailRules email_rules,
                           mail::PersonalEmailRules::ReadFile(email_rules_path));

  pg::ConnectionPool pool(conninfo, static_cast<size_t>(max_connections));
  TESSERA_RETURN_IF_ERROR(pg::MigrateAtStart(pool, dispatch::kPgSchema, dispatch::PgMigrations()));
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<hsm::Module> vault, hsm::Module::Load(vault_module));
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<hsm::Token> vault_session,
                           hsm::Token::Login(vault, vault_token, vault_pin));
  TESSERA_ASSIGN_OR_RETURN(hsm::SecretSealer sealer,
                           hsm::SecretSealer::Open(vault_session, seal_key, true));

  // tessera-dispatch calls tessera-registry and tessera-perso as itself.
  TESSERA_ASSIGN_OR_RETURN(ChannelTo channel_to, ChannelsAsItself(start));
  std::shared_ptr<grpc::Channel> registry = channel_to(registry_target);
  std::shared_ptr<grpc::Channel> perso = channel_to(perso_target);
  // Persons' sessions are checked at this door from what the registry publishes.
  sessions::RegistrySessions person_sessions = sessions::UseRegistrySessions(registry, start.rpc);

  SystemClock clock;
  // Every change is in the audit chain; its head is signed with a key on the vault token.
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<audit_service::AuditAnchoring> audit_anchoring,
                           audit_service::AuditAnchoring::Start(config, vault_session, pool,
                                                                dispatch::kPgSchema, clock));
  dispatch::PgDispatchStore store(pool);
  dispatch_service::RegistryDirectory directory(registry);
  dispatch_service::PersoLots perso_lots(perso);
  dispatch::DeliveryDesk desk(
      store, directory, perso_lots,
      [&sealer](const Secret& body) { return sealer.Seal(body, kMailSealPurpose); }, clock);
  // Sealed lots come over within seconds of their sealing.
  PeriodicTask intake("lot_intake", std::chrono::seconds(poll_seconds), [&] {
    return dispatch::TakeOverSealedLots(perso_lots, store, directory, clock).status();
  });
  intake.Start();
  // The outbox (second halves, notices) delivered over SMTP, as [mail] says.
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<outbox_service::OutboxSending> outbox,
                           outbox_service::OutboxSending::Start(
                               config, kName, pool, dispatch::kPgSchema,
                               [&sealer](std::span<const uint8_t> sealed) {
                                 return sealer.Unseal(sealed, kMailSealPurpose);
                               },
                               [&email_rules](const std::string& address) {
                                 return email_rules.Check(address).status();
                               },
                               clock, std::move(smtp_password)));

  mail::PgOutboxStore outbox_records(pool, dispatch::kPgSchema);
  dispatch_service::DispatchHandlers handlers(desk, outbox_records, person_sessions.gate);
  start.rpc.services = {&handlers};
  start.rpc.rules = dispatch_service::DispatchPolicy(person_sessions.gate);
  const absl::Status served = ServeUntilStopped(std::move(start.rpc), start.port_file);
  intake.Stop();
  if (outbox != nullptr) outbox->Stop();
  return served;
}

}  // namespace
}  // namespace tessera

int main(int argc, char** argv) {
  return tessera::ServiceMain(argc, argv, tessera::kName, tessera::Serve);
}
