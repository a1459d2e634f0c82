// tessera-registry: reference data, censuses and the orders they create. Serves gRPC over mTLS
// with the default-deny policy table (services/registry/handlers.cc).
//
//   tessera-registry --config <file.toml>
//
// Config keys (each overridable by TESSERA_<KEY> in the environment):
//   grpc.listen            address:port to listen on; port 0 lets the OS pick
//   grpc.port_file         optional: where to write the port actually bound
//   registry.max_import_mb largest census file ImportCensus takes (a national file, sent in
//                          parts of at most 1 MiB), default 64
//   tls.certificate_chain  PEM: this service's certificate, then its issuing CA
//   tls.private_key        PEM: this service's TLS key
//   tls.client_ca_bundle   PEM: the tessera CAs whose client certificates are accepted
//   trust.issuers          which issuing CA certifies which kind of caller (default
//                          service=operators,operator=operators,workstation=workstations)
//   revocation.crl_url     where tessera-ca serves the issuing CAs' CRLs ("http://host:port/crl")
//   revocation.refresh_seconds  how often they are fetched again (default 10, at most 50)
//   db.conninfo            libpq connection string; migrations of schema "registry" run at start
//   db.max_connections     default 8
//   registry.email_rules   the personal e-mail rules (deploy/reference/personal_email.txt)
//   ca.target              optional: tessera-ca's gRPC address, host:port, where the registry
//                          fetches workstation bundles for an office's ALP (DownloadWorkstations
//                          answers FAILED_PRECONDITION without it)
//   session.module         PKCS#11 module of the token holding the session-signing key
//   session.token          its label
//   session.key            label of the key (EC P-256; made on the token at the first start;
//                          default "session-signing")
//   mail.*                 the SMTP relay the outbox is sent through
//                          (services/outbox/outbox_sending.h)
//   audit.*                the audit chain's anchor key, on the session token
//                          (services/audit/anchoring.h)
//   log.level              debug | info | warn | error (default info)
//
// The session token's PIN comes from TESSERA_SESSION_PIN (or a 0600 file named by
// TESSERA_SESSION_PIN_FILE), never from the config file.
#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/x509_key.h>

#include <string>

#include "access/session_gate.h"
#include "hsm/module.h"
#include "hsm/secret_sealer.h"
#include "hsm/token.h"
#include "hsm/token_key.h"
#include "platform/clock.h"
#include "platform/migrations.h"
#include "platform/pg_pool.h"
#include "platform/process.h"
#include "platform/service_main.h"
#include "platform/status_macros.h"
#include "registry/card_login.h"
#include "registry/census_office.h"
#include "registry/pg_stores.h"
#include "services/audit/anchoring.h"
#include "services/outbox/outbox_sending.h"
#include "services/registry/ca_bundles.h"
#include "services/registry/handlers.h"

namespace tessera {
namespace {

constexpr char kName[] = "tessera-registry";

// The largest gRPC message the registry receives: a census draft and its envelope.
constexpr int kMaxMessageBytes = static_cast<int>(registry::kMaxDraftBytes) + (1 << 20);

// The key sessions are signed with, on the HSM: found by its label (its CKA_ID), or made
// there, EC P-256, never extractable, at the first start.
struct SessionKeyOnToken {
  std::shared_ptr<hsm::Token> token;
  std::unique_ptr<Botan::Private_Key> key;
  registry::SessionSigningKey signing;
};

absl::StatusOr<SessionKeyOnToken> OpenSessionKey(const Config& config) {
  TESSERA_ASSIGN_OR_RETURN(Secret pin, TakeSecretFromEnv("TESSERA_SESSION_PIN"));
  TESSERA_ASSIGN_OR_RETURN(std::string module_path, config.String("session.module"));
  TESSERA_ASSIGN_OR_RETURN(std::string token_label, config.String("session.token"));
  TESSERA_ASSIGN_OR_RETURN(std::string key_label,
                           config.StringOr("session.key", "session-signing"));
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<hsm::Module> module, hsm::Module::Load(module_path));
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<hsm::Token> token,
                           hsm::Token::Login(module, token_label, pin));
  absl::StatusOr<hsm::OwnKey> key = hsm::LoadOrMakeOwnKey(token, key_label);
  if (!key.ok()) {
    return absl::Status(key.status().code(),
                        absl::StrCat("session.key '", key_label, "': ", key.status().message()));
  }
  if (key->made) LogEvent(spdlog::level::info, "session_key_made", {{"label", key_label}});
  if (key->key->algo_name() != "ECDSA") {
    return absl::InvalidArgumentError(
        absl::StrCat("session.key '", key_label, "': not an EC key (ES256 needs P-256)"));
  }
  SessionKeyOnToken opened;
  opened.signing.public_key_pem = Botan::X509::PEM_encode(*key->key);
  const std::vector<uint8_t> spki = Botan::X509::BER_encode(*key->key);
  auto hash = Botan::HashFunction::create_or_throw("SHA-256");
  opened.signing.key_id = Botan::hex_encode(hash->process(spki), false).substr(0, 16);
  opened.token = token;
  opened.key = std::move(key->key);
  opened.signing.key = opened.key.get();
  return opened;
}

absl::Status Serve(const std::string& config_path) {
  TESSERA_ASSIGN_OR_RETURN(ServiceStart start, StartService(kName, config_path));
  TESSERA_RETURN_IF_ERROR(UseCrlRevocation(start));
  TESSERA_RETURN_IF_ERROR(CheckItalianTimeZone());  // census windows open on Italian dates
  const Config& config = start.config;
  TESSERA_ASSIGN_OR_RETURN(int64_t max_import_mb, config.IntOr("registry.max_import_mb", 64));
  TESSERA_ASSIGN_OR_RETURN(std::string conninfo, config.String("db.conninfo"));
  TESSERA_ASSIGN_OR_RETURN(int64_t max_connections, config.IntOr("db.max_connections", 8));
  TESSERA_ASSIGN_OR_RETURN(std::string email_rules_path, config.String("registry.email_rules"));
  if (max_import_mb < 1 || max_import_mb > 512) {
    return absl::InvalidArgumentError("registry.max_import_mb: 1 to 512");
  }
  // No message is larger than a census draft (2 MiB, registry::kMaxDraftBytes) and its
  // envelope; a census file comes in 1 MiB parts.
  start.rpc.max_receive_bytes = kMaxMessageBytes;
  TESSERA_ASSIGN_OR_RETURN(mail::PersonalEmailRules email_rules,
                           mail::PersonalEmailRules::ReadFile(email_rules_path));

  pg::ConnectionPool pool(conninfo, static_cast<size_t>(max_connections));
  TESSERA_RETURN_IF_ERROR(pg::MigrateAtStart(pool, registry::kPgSchema, registry::PgMigrations()));
  TESSERA_ASSIGN_OR_RETURN(SessionKeyOnToken session_key, OpenSessionKey(config));
  TESSERA_ASSIGN_OR_RETURN(std::optional<Secret> smtp_password, outbox_service::TakeSmtpPassword());
  SystemClock clock;
  registry::PgRegistryStores stores(pool);
  registry::CensusOffice office(stores.View(), email_rules, clock);
  registry::PgLoginStore logins(pool);
  registry::CardLogin login(logins, *start.rpc.trust, *start.rpc.revocation, session_key.signing,
                            clock);
  // Mail with a secret in it (a daily password) is sealed by a key beside the session key.
  TESSERA_ASSIGN_OR_RETURN(hsm::SecretSealer mail_sealer,
                           hsm::SecretSealer::Open(session_key.token, "outbox-mail", true));
  // Every change is in the audit chain; its head is signed beside the session key.
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<audit_service::AuditAnchoring> audit_anchoring,
                           audit_service::AuditAnchoring::Start(config, session_key.token, pool,
                                                                registry::kPgSchema, clock));
  registry::PgDailyAccessStore daily_store(pool);
  registry::DailyAccess daily(
      daily_store, logins, login,
      [&mail_sealer](std::string_view body) {
        return mail_sealer.Seal(Secret(body), registry::kOutboxSealPurpose);
      },
      clock);
  // A card revoked at tessera-ca (lost, stolen) ends its sessions as soon as the CRL says so.
  PeriodicTask revoked_cards("revoked_card_sessions", std::chrono::seconds(2),
                             [&login]() { return login.EndSessionsOfRevokedCards().status(); });
  revoked_cards.Start();
  // Each Italian day's passwords, made and mailed within a minute of midnight.
  PeriodicTask daily_passwords("daily_passwords", std::chrono::seconds(60),
                               [&daily]() { return daily.IssueDue().status(); });
  daily_passwords.Start();
  // The outbox (daily passwords) delivered over SMTP, as [mail] says.
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<outbox_service::OutboxSending> outbox,
                           outbox_service::OutboxSending::Start(
                               config, kName, pool, registry::kPgSchema,
                               [&mail_sealer](std::span<const uint8_t> sealed) {
                                 return mail_sealer.Unseal(sealed, registry::kOutboxSealPurpose);
                               },
                               [&email_rules](const std::string& address) {
                                 return email_rules.Check(address).status();
                               },
                               clock, std::move(smtp_password)));
  // The registry checks sessions as every other service does: from what it publishes.
  auto gate = std::make_shared<access::SessionGate>();
  std::unique_ptr<PeriodicTask> gate_upkeep = access::KeepSessionGateCurrent(
      *gate, [&login](int64_t cursor) { return login.State(cursor); });
  start.rpc.session_check = [gate](std::string_view token, std::string_view certificate) {
    return gate->Check(token, certificate, std::chrono::system_clock::now());
  };
  start.rpc.rules = registry_service::RegistryPolicy(office, gate);
  // Workstation bundles stay at tessera-ca; the registry fetches them for the ALP, as itself.
  TESSERA_ASSIGN_OR_RETURN(std::string ca_target, config.StringOr("ca.target", ""));
  std::shared_ptr<grpc::Channel> ca;
  if (!ca_target.empty()) {
    TESSERA_ASSIGN_OR_RETURN(ChannelTo channel_to, ChannelsAsItself(start));
    ca = channel_to(ca_target);
  }
  registry::PgWorkstationStore workstation_store(pool);
  registry::WorkstationCertificates workstations(
      workstation_store, registry_service::BundlesFromCa(std::move(ca)), clock);
  mail::PgOutboxStore outbox_records(pool, registry::kPgSchema);
  registry_service::RegistryHandlers handlers(office, login, daily, workstations, outbox_records,
                                              static_cast<size_t>(max_import_mb) << 20);
  start.rpc.services = {&handlers};
  // A comune without a certificate yet calls with its census access code instead.
  start.rpc.call_credential = [&office](std::string_view credential) {
    return registry_service::AccessCodeCaller(office, credential);
  };
  return ServeUntilStopped(std::move(start.rpc), start.port_file);
}

}  // namespace
}  // namespace tessera

int main(int argc, char** argv) {
  return tessera::ServiceMain(argc, argv, tessera::kName, tessera::Serve);
}
