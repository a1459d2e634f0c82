// tessera's real hierarchy for tests, made by the key ceremony on private SoftHSM tokens: the
// root on its own token; the operators and workstations CAs, their OCSP responders and the
// bundle sealing key on the online token; PEM files (and service TLS identities, if asked)
// under <dir>/pki.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ca/ceremony.h"
#include "ca/issuer.h"
#include "hsm/token.h"
#include "tests/support/service_process.h"
#include "tests/support/temp_dir.h"

namespace tessera::testing {

inline constexpr char kTestCaPin[] = "77778888";

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released): for a
// service that must listen where a certificate made before it started says it does.
int FreeLoopbackPort();

// A client's TLS certificate (chain) and key, as PEM.
struct TlsIdentity {
  std::string cert_pem;
  std::string key_pem;
};

// One tessera-perso daemon of a test run (TestHierarchy::WritePersoConfig).
struct PersoStation {
  std::string name = "test-station";
  int readers = 3;
  std::string conninfo;      // its PostgreSQL database
  std::string port_file;     // where it writes its gRPC port
  std::string spool;         // print files
  std::string archive;       // cards.archive; empty: none
  std::string cards_module;  // a PKCS#11 module path
  bool reader_slots = false;
  std::string vault_module;
  std::string vault_label;
  uint32_t lease_seconds = 0;  // 0: the daemon's default
};

class TestHierarchy {
 public:
  // The ceremony file of a test hierarchy (fresh token labels; PEM output under <dir>/pki) and
  // the PINs it is run with, for tests that run the ceremony themselves.
  static ca::CeremonyConfig Config(const std::string& dir, std::vector<ca::ServiceSpec> services,
                                   const std::string& base_url, hsm::KeyAlgorithm algorithm);
  static ca::CeremonyPins Pins();

  // Throws std::runtime_error if the ceremony fails (usable from SetUpTestSuite).
  // `profiles_path`: another profiles file than deploy/ca/profiles.toml (e.g. short-lived
  // service certificates).
  explicit TestHierarchy(const std::string& dir, std::vector<ca::ServiceSpec> services = {},
                         const std::string& base_url = "http://ca.tessera.test",
                         hsm::KeyAlgorithm algorithm = hsm::KeyAlgorithm::kEcP256,
                         const std::string& profiles_path = "");

  const ca::CeremonyConfig& config() const { return config_; }
  std::string Pki(const std::string& file) const { return config_.output_dir + "/" + file; }
  // The TLS identity the ceremony wrote for service `name` (<name>.pem, <name>.key).
  TlsIdentity ServiceIdentity(const std::string& name) const;
  // A certificate of profile `profile_name` (deploy/ca/profiles.toml) for `subject`, from the
  // issuing CA the profile names, or from `issuer` if given (a certificate made by the wrong
  // CA, for tests of what is refused); a fresh software P-256 key. Throws if it fails.
  TlsIdentity Issue(const std::string& profile_name, const ca::SubjectData& subject,
                    const std::string& issuer = "") const;
  // The online token, logged in with kTestCaPin (as tessera-ca logs in).
  std::shared_ptr<hsm::Token> online() const { return online_; }
  // The issuing CAs as tessera-ca loads them from the online token.
  std::map<std::string, std::unique_ptr<ca::Issuer>> LoadIssuers() const;
  std::vector<uint8_t> RootDer() const;
  // Writes a tessera-ca config for this hierarchy to `path`: gRPC on loopback with an
  // OS-picked port written to <run_dir>/port, HTTP on `http_listen` (port 0: OS-picked) with
  // the port written to <run_dir>/http-port; the service needs TESSERA_CA_PIN=kTestCaPin and
  // the "tessera-ca" service identity. For the URLs in certificates to work, the hierarchy's
  // base_url must name the same port (FreeLoopbackPort).
  void WriteCaConfig(const std::string& path, const std::string& conninfo,
                     const std::string& run_dir,
                     const std::string& http_listen = "127.0.0.1:0") const;
  // tessera-ca running on this hierarchy: <run_dir>/ca.toml written as above, the PIN in its
  // environment, its log in <run_dir>/ca.log.
  std::unique_ptr<ServiceProcess> StartCa(const std::string& conninfo, const std::string& run_dir,
                                          const std::string& http_listen = "127.0.0.1:0") const;
  // Writes a tessera-registry config that checks callers against the CRLs of the tessera-ca
  // whose HTTP port is in <run_dir>/http-port; gRPC port to <run_dir>/registry-port. With
  // `ca_port`, it fetches workstation bundles from that tessera-ca (ca.target).
  void WriteRegistryConfig(const std::string& path, const std::string& conninfo,
                           const std::string& run_dir, int ca_port = 0) const;
  // The [session] table of a tessera-registry config: a SoftHSM token of the hierarchy's own
  // (made at the first call) for the session-signing key. Sets TESSERA_SESSION_PIN in this
  // process's environment, which the registry processes it starts inherit.
  std::string RegistrySessionToml() const;
  // The label of that token (the registry's session key and its outbox sealing key are on it;
  // user PIN kTestUserPin).
  const std::string& registry_session_token() const { return session_token_; }
  // Writes a tessera-perso config (one station) calling tessera-ca and tessera-registry on
  // `ca_port` and `registry_port` of localhost as tessera-perso, checking callers against the
  // CRLs as above; gRPC port to `station.port_file`.
  void WritePersoConfig(const std::string& path, const PersoStation& station,
                        const std::string& run_dir, int ca_port, int registry_port) const;
  // Writes a tessera-dispatch config calling tessera-registry and tessera-perso on localhost as
  // tessera-dispatch (lots looked for every second), its keys on token `vault_label` (user PIN
  // kTestUserPin, from TESSERA_VAULT_PIN), its outbox sent to `smtp_relay` ("": kept); gRPC
  // port to <run_dir>/dispatch-port.
  void WriteDispatchConfig(const std::string& path, const std::string& conninfo,
                           const std::string& run_dir, int registry_port, int perso_port,
                           const std::string& vault_label, const std::string& smtp_relay) const;

 private:
  ca::CeremonyConfig config_;
  std::shared_ptr<hsm::Token> online_;
  mutable std::string session_token_;  // label; empty until RegistrySessionToml
};

// A test suite's own PKI and tessera-ca: the ceremony in a temporary directory naming
// `services`, and tessera-ca on a fresh database with its HTTP endpoint on a free loopback
// port, the one the certificates' CRL and OCSP URLs name. Throws if either fails (usable from
// SetUpTestSuite); the destructor stops tessera-ca and expects a clean exit.
class RunningCa {
 public:
  RunningCa(const std::string& prefix, std::vector<ca::ServiceSpec> services);
  ~RunningCa();
  RunningCa(const RunningCa&) = delete;
  RunningCa& operator=(const RunningCa&) = delete;

  TempDir& dir() { return dir_; }
  TestHierarchy& hierarchy() { return hierarchy_; }
  ServiceProcess& server() { return *server_; }
  // tessera-ca stopped (SIGTERM; the exit status), and started again on the same gRPC port, its
  // log in `log` (a file name in dir()).
  int Stop();
  void Restart(const std::string& log);
  int http_port() const { return http_port_; }
  // tessera-ca's database, for checking what it recorded.
  const std::string& conninfo() const { return conninfo_; }

 private:
  TempDir dir_;
  int http_port_;
  std::string conninfo_;
  TestHierarchy hierarchy_;
  std::unique_ptr<ServiceProcess> server_;
  bool stopped_ = false;
};

}  // namespace tessera::testing
