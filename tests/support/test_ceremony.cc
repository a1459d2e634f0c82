#include "tests/support/test_ceremony.h"

#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/pkcs8.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

#include "ca/certificate_builder.h"
#include "ca/profile.h"
#include "platform/clock.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_hsm.h"
#include "tests/support/test_pg.h"

namespace tessera::testing {

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    throw std::runtime_error("cannot bind a loopback port");
  }
  close(fd);
  return ntohs(address.sin_port);
}

ca::CeremonyConfig TestHierarchy::Config(const std::string& dir,
                                         std::vector<ca::ServiceSpec> services,
                                         const std::string& base_url, hsm::KeyAlgorithm algorithm) {
  ca::CeremonyConfig config;
  config.module_path = TestSoftHsm::Get().module_path();
  config.root_token = TestSoftHsm::UniqueLabel("root");
  config.online_token = TestSoftHsm::UniqueLabel("online");
  config.root = {"root", "Tessera Root CA", algorithm, 20};
  config.issuing = {{"operators", "Tessera CA Operatori", algorithm, 10},
                    {"workstations", "Tessera CA Postazioni", algorithm, 10}};
  config.base_url = base_url;
  config.services = std::move(services);
  config.output_dir = dir + "/pki";
  config.profiles_path = std::string(TESSERA_SOURCE_DIR) + "/deploy/ca/profiles.toml";
  return config;
}

ca::CeremonyPins TestHierarchy::Pins() {
  return {Secret("11112222"), Secret("33334444"), Secret("55556666"), Secret(kTestCaPin)};
}

TestHierarchy::TestHierarchy(const std::string& dir, std::vector<ca::ServiceSpec> services,
                             const std::string& base_url, hsm::KeyAlgorithm algorithm,
                             const std::string& profiles_path)
    : config_(Config(dir, std::move(services), base_url, algorithm)) {
  if (!profiles_path.empty()) config_.profiles_path = profiles_path;
  SystemClock clock;
  auto record = ca::RunCeremony(config_, Pins(), clock);
  if (!record.ok()) throw std::runtime_error("ceremony: " + std::string(record.status().message()));
  auto online =
      hsm::Token::Login(TestSoftHsm::Get().module(), config_.online_token, Secret(kTestCaPin));
  if (!online.ok()) throw std::runtime_error("login: " + std::string(online.status().message()));
  online_ = *std::move(online);
}

std::map<std::string, std::unique_ptr<ca::Issuer>> TestHierarchy::LoadIssuers() const {
  std::map<std::string, std::unique_ptr<ca::Issuer>> issuers;
  for (const ca::CaSpec& spec : config_.issuing) {
    auto issuer = ca::LoadIssuerFromToken(online_, spec.name, config_.base_url);
    if (!issuer.ok()) throw std::runtime_error(std::string(issuer.status().message()));
    issuers[spec.name] = *std::move(issuer);
  }
  return issuers;
}

std::vector<uint8_t> TestHierarchy::RootDer() const {
  const std::string pem = ReadFileOrDie(Pki("root.pem"));
  return Botan::X509_Certificate(reinterpret_cast<const uint8_t*>(pem.data()), pem.size())
      .BER_encode();
}

TlsIdentity TestHierarchy::Issue(const std::string& profile_name, const ca::SubjectData& subject,
                                 const std::string& issuer_name) const {
  Botan::AutoSeeded_RNG rng;
  Botan::ECDSA_PrivateKey key(rng, Botan::EC_Group("secp256r1"));
  auto profiles = ca::ProfileSet::LoadFile(config_.profiles_path);
  if (!profiles.ok()) throw std::runtime_error(profiles.status().ToString());
  auto profile = profiles->Find(profile_name);
  if (!profile.ok()) throw std::runtime_error(profile.status().ToString());
  auto issuers = LoadIssuers();
  const ca::Issuer& issuer = *issuers.at(issuer_name.empty() ? (*profile)->issuer : issuer_name);
  auto plan = ca::PlanCertificate(**profile, subject, key, issuer.context(), ca::RandomSerial(rng),
                                  std::chrono::system_clock::now());
  if (!plan.ok()) throw std::runtime_error(plan.status().ToString());
  auto cert = issuer.Issue(*plan);
  if (!cert.ok()) throw std::runtime_error(cert.status().ToString());
  return {cert->PEM_encode() + issuer.certificate().PEM_encode(), Botan::PKCS8::PEM_encode(key)};
}

std::unique_ptr<ServiceProcess> TestHierarchy::StartCa(const std::string& conninfo,
                                                       const std::string& run_dir,
                                                       const std::string& http_listen) const {
  const std::string config = run_dir + "/ca.toml";
  WriteCaConfig(config, conninfo, run_dir, http_listen);
  setenv("TESSERA_CA_PIN", kTestCaPin, 1);
  return std::make_unique<ServiceProcess>("tessera-ca", config, run_dir + "/port",
                                          run_dir + "/ca.log");
}

void TestHierarchy::WriteCaConfig(const std::string& path, const std::string& conninfo,
                                  const std::string& run_dir,
                                  const std::string& http_listen) const {
  std::string issuers;
  for (const ca::CaSpec& spec : config_.issuing)
    issuers += (issuers.empty() ? "" : ",") + spec.name;
  WriteFile(path, "[grpc]\nlisten = \"127.0.0.1:0\"\nport_file = \"" + run_dir +
                      "/port\"\n[tls]\ncertificate_chain = \"" + Pki("tessera-ca.pem") +
                      "\"\nprivate_key = \"" + Pki("tessera-ca.key") + "\"\nclient_ca_bundle = \"" +
                      Pki("bundle.pem") + "\"\n[db]\nconninfo = \"" + conninfo +
                      "\"\n[hsm]\nmodule = \"" + config_.module_path + "\"\ntoken = \"" +
                      config_.online_token + "\"\n[ca]\nissuers = \"" + issuers +
                      "\"\nroot_certificate = \"" + Pki("root.pem") + "\"\nprofiles = \"" +
                      config_.profiles_path + "\"\nbase_url = \"" + config_.base_url +
                      "\"\n[http]\nlisten = \"" + http_listen + "\"\nport_file = \"" + run_dir +
                      "/http-port\"\n[crl]\nvalidity_hours = 24\nrefresh_hours = 12\n");
}

namespace {

// The HTTP port tessera-ca wrote into <run_dir>/http-port: where the services fetch its CRLs.
std::string HttpPort(const std::string& run_dir) {
  std::string port = ReadFileOrDie(run_dir + "/http-port");
  port.erase(port.find('\n'));
  return port;
}

}  // namespace

void TestHierarchy::WriteRegistryConfig(const std::string& path, const std::string& conninfo,
                                        const std::string& run_dir, int ca_port) const {
  const std::string http_port = HttpPort(run_dir);
  WriteFile(path,
            "[grpc]\nlisten = \"127.0.0.1:0\"\nport_file = \"" + run_dir +
                "/registry-port\"\n[tls]\ncertificate_chain = \"" + Pki("tessera-registry.pem") +
                "\"\nprivate_key = \"" + Pki("tessera-registry.key") + "\"\nclient_ca_bundle = \"" +
                Pki("bundle.pem") + "\"\nreload_seconds = 1\n[db]\nconninfo = \"" + conninfo +
                "\"\n[revocation]\ncrl_url = \"http://127.0.0.1:" + http_port +
                "/crl\"\nrefresh_seconds = 1\n[registry]\nemail_rules = \"" +
                std::string(TESSERA_SOURCE_DIR) + "/deploy/reference/personal_email.txt\"\n" +
                RegistrySessionToml() + "[audit]\nanchor_seconds = 1\npublic_key_file = \"" +
                run_dir + "/registry-audit.pem\"\n" +
                (ca_port == 0 ? std::string()
                              : "[ca]\ntarget = \"localhost:" + std::to_string(ca_port) + "\"\n"));
}

std::string TestHierarchy::RegistrySessionToml() const {
  if (session_token_.empty()) {
    session_token_ = TestSoftHsm::UniqueLabel("sessions");
    TestSoftHsm::Get().CreateToken(session_token_);
  }
  setenv("TESSERA_SESSION_PIN", kTestUserPin, 1);
  return "[session]\nmodule = \"" + TestSoftHsm::Get().module_path() + "\"\ntoken = \"" +
         session_token_ + "\"\n";
}

void TestHierarchy::WritePersoConfig(const std::string& path, const PersoStation& station,
                                     const std::string& run_dir, int ca_port,
                                     int registry_port) const {
  const std::string http_port = HttpPort(run_dir);
  WriteFile(
      path,
      "[grpc]\nlisten = \"127.0.0.1:0\"\nport_file = \"" + station.port_file +
          "\"\n[tls]\ncertificate_chain = \"" + Pki("tessera-perso.pem") + "\"\nprivate_key = \"" +
          Pki("tessera-perso.key") + "\"\nclient_ca_bundle = \"" + Pki("bundle.pem") +
          "\"\n[db]\nconninfo = \"" + station.conninfo +
          "\"\n[revocation]\ncrl_url = \"http://127.0.0.1:" + http_port +
          "/crl\"\nrefresh_seconds = 1\n[ca]\ntarget = \"localhost:" + std::to_string(ca_port) +
          "\"\n[registry]\ntarget = \"localhost:" + std::to_string(registry_port) +
          "\"\n[perso]\nstation = \"" + station.name +
          "\"\nreaders = " + std::to_string(station.readers) +
          (station.lease_seconds == 0
               ? std::string()
               : "\nlease_seconds = " + std::to_string(station.lease_seconds)) +
          "\nspool = \"" + station.spool + "\"\n[cards]\nmodule = \"" + station.cards_module +
          "\"\n" + (station.reader_slots ? "reader_slots = true\n" : "") +
          (station.archive.empty() ? std::string() : "archive = \"" + station.archive + "\"\n") +
          "[vault]\nmodule = \"" + station.vault_module + "\"\ntoken = \"" + station.vault_label +
          "\"\n");
}

void TestHierarchy::WriteDispatchConfig(const std::string& path, const std::string& conninfo,
                                        const std::string& run_dir, int registry_port,
                                        int perso_port, const std::string& vault_label,
                                        const std::string& smtp_relay) const {
  const std::string http_port = HttpPort(run_dir);
  const std::string source = TESSERA_SOURCE_DIR;
  WriteFile(path, "[grpc]\nlisten = \"127.0.0.1:0\"\nport_file = \"" + run_dir +
                      "/dispatch-port\"\n[tls]\ncertificate_chain = \"" +
                      Pki("tessera-dispatch.pem") + "\"\nprivate_key = \"" +
                      Pki("tessera-dispatch.key") + "\"\nclient_ca_bundle = \"" +
                      Pki("bundle.pem") + "\"\n[db]\nconninfo = \"" + conninfo +
                      "\"\n[revocation]\ncrl_url = \"http://127.0.0.1:" + http_port +
                      "/crl\"\nrefresh_seconds = 1\n[registry]\ntarget = \"localhost:" +
                      std::to_string(registry_port) +
                      "\"\n[perso]\ntarget = \"localhost:" + std::to_string(perso_port) +
                      "\"\n[intake]\npoll_seconds = 1\n[vault]\nmodule = \"" +
                      TestSoftHsm::Get().module_path() + "\"\ntoken = \"" + vault_label +
                      "\"\n[mail]\npersonal_email_rules = \"" + source +
                      "/deploy/reference/personal_email.txt\"\n" +
                      (smtp_relay.empty() ? std::string()
                                          : "relay = \"" + smtp_relay +
                                                "\"\nfrom = \"anpr-carte@interno.example\"\ntls = "
                                                "\"off\"\npoll_seconds = 1\n") +
                      "[audit]\nanchor_seconds = 1\npublic_key_file = \"" + run_dir +
                      "/dispatch-audit.pem\"\n");
}

TlsIdentity TestHierarchy::ServiceIdentity(const std::string& name) const {
  return {ReadFileOrDie(Pki(name + ".pem")), ReadFileOrDie(Pki(name + ".key"))};
}

RunningCa::RunningCa(const std::string& prefix, std::vector<ca::ServiceSpec> services)
    : dir_(prefix),
      http_port_(FreeLoopbackPort()),
      hierarchy_(dir_.path().string(), std::move(services),
                 "http://127.0.0.1:" + std::to_string(http_port_)) {
  TestPg& pg = TestPg::Get();
  conninfo_ = pg.ConnInfo(pg.CreateDatabase());
  server_ = hierarchy_.StartCa(conninfo_, dir_.path().string(),
                               "127.0.0.1:" + std::to_string(http_port_));
}

RunningCa::~RunningCa() {
  if (!stopped_) {
    EXPECT_EQ(server_->Stop(), 0) << "tessera-ca did not shut down cleanly";
  }
}

int RunningCa::Stop() {
  stopped_ = true;
  return server_->Stop();
}

void RunningCa::Restart(const std::string& log) {
  const std::string config = dir_.File("ca.toml");
  std::string text = ReadFileOrDie(config);
  const std::string any_port = "listen = \"127.0.0.1:0\"";
  if (const size_t at = text.find(any_port); at != std::string::npos) {
    text.replace(at, any_port.size(),
                 "listen = \"127.0.0.1:" + std::to_string(server_->port()) + "\"");
    WriteFile(config, text);
  }
  if (!stopped_) server_->Stop();
  server_ =
      std::make_unique<ServiceProcess>("tessera-ca", config, dir_.File("port"), dir_.File(log));
  stopped_ = false;
}

}  // namespace tessera::testing
