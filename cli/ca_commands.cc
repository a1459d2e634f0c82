// tessera ceremony and tessera ca …: the key ceremony and the CA's gRPC API.
#include <botan/auto_rng.h>
#include <botan/data_src.h>
#include <botan/ecdsa.h>
#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/pkcs10.h>
#include <botan/pkcs8.h>
#include <botan/x509_crl.h>
#include <botan/x509cert.h>
#include <botan/x509self.h>

#include <CLI/CLI.hpp>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ca/ceremony.h"
#include "ca/root_crl.h"
#include "cli/common.h"
#include "platform/clock.h"
#include "platform/files.h"
#include "platform/log.h"
#include "platform/status_macros.h"
#include "proto/ca.grpc.pb.h"

namespace tessera::cli {
namespace {

// A CSR file in PEM or DER.
absl::StatusOr<std::string> CsrDer(const std::string& path) {
  TESSERA_ASSIGN_OR_RETURN(std::string content, ReadFile(path));
  if (content.find("-----BEGIN") == std::string::npos) return content;
  try {
    Botan::DataSource_Memory source(content);
    Botan::PKCS10_Request request(source);
    std::vector<uint8_t> der = request.BER_encode();
    return std::string(der.begin(), der.end());
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("--csr: not a PKCS#10 request: ", e.what()));
  }
}

std::string Pem(const std::string& der) {
  Botan::X509_Certificate cert(reinterpret_cast<const uint8_t*>(der.data()), der.size());
  return cert.PEM_encode();
}

nlohmann::json ToJson(const v1::Certificate& c) {
  return {{"serial", c.serial()},
          {"issuer", c.issuer()},
          {"profile", c.profile()},
          {"subject", c.subject()},
          {"state", v1::Certificate::State_Name(c.state())},
          {"not_before_unix", c.not_before_unix()},
          {"not_after_unix", c.not_after_unix()},
          {"revoked", c.revoked()}};
}

std::string ToText(const v1::Certificate& c) {
  return absl::StrFormat("%s  %-12s %-13s %s%s", c.serial(), c.issuer(), c.profile(), c.subject(),
                         c.revoked() ? "  [REVOKED]" : "");
}

// "2026-11-23T12:00:00Z"
std::string UtcText(int64_t unix_seconds) {
  return tessera::UtcText(FromUnixSeconds(unix_seconds));
}

std::unique_ptr<v1::CertificateAuthority::Stub> Stub(std::shared_ptr<grpc::Channel> channel) {
  return v1::CertificateAuthority::NewStub(std::move(channel));
}

void Deadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
}

// Where a bundle goes: --out, and its password to --password-out (by default <out>.pass
// beside it); printed only with --show-password, as scrollback, CI logs and shared screens are
// no place for it. Checked before the CA is asked, so a bad combination costs no bundle.
struct BundleOutputs {
  std::string pkcs12;
  std::string password;  // a file, or empty
  bool show_password = false;
};

absl::StatusOr<BundleOutputs> BundleOutputsFrom(const Args& args) {
  BundleOutputs outputs;
  outputs.pkcs12 = args.Get("out");
  outputs.show_password = args.Has("show-password");
  outputs.password = args.Get("password-out");
  if (outputs.password.empty() && !outputs.show_password) {
    if (outputs.pkcs12 == "-") {
      return absl::InvalidArgumentError(
          "--out -: name a file for the password with --password-out (or --show-password)");
    }
    outputs.password = outputs.pkcs12 + ".pass";
  }
  if (outputs.pkcs12 == "-" && outputs.password == "-") {
    return absl::InvalidArgumentError("--out and --password-out: only one of them may be -");
  }
  return outputs;
}

// Writes a bundle's PKCS#12 file and password, both as secrets (0600, never through a
// symlink), and reports where.
absl::Status SaveBundle(const Args& args, const BundleOutputs& outputs,
                        const v1::WorkstationBundle& bundle, nlohmann::json json) {
  TESSERA_RETURN_IF_ERROR(WriteSecretFile(outputs.pkcs12, bundle.pkcs12()));
  const v1::Certificate& c = bundle.certificate();
  std::string text = absl::StrCat("workstation ", c.serial(), " by ", c.issuer(), ": ", c.subject(),
                                  "\nPKCS#12 written to ", outputs.pkcs12);
  json["certificate"] = ToJson(c);
  json["pkcs12"] = outputs.pkcs12;
  if (!outputs.password.empty()) {
    TESSERA_RETURN_IF_ERROR(WriteSecretFile(outputs.password, bundle.password() + "\n"));
    json["password_file"] = outputs.password;
    text += "\npassword written to " + outputs.password;
  }
  if (outputs.show_password) {
    json["password"] = bundle.password();
    text += "\npassword: " + bundle.password();
  }
  Print(args, json, text);
  return absl::OkStatus();
}

absl::Status Ceremony(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(ca::CeremonyConfig config,
                           ca::CeremonyConfig::LoadFile(args.Get("config")));
  ca::CeremonyPins pins;
  TESSERA_ASSIGN_OR_RETURN(pins.root_so_pin, PinFromEnv("TESSERA_ROOT_SO_PIN"));
  TESSERA_ASSIGN_OR_RETURN(pins.root_user_pin, PinFromEnv("TESSERA_ROOT_PIN"));
  TESSERA_ASSIGN_OR_RETURN(pins.online_so_pin, PinFromEnv("TESSERA_CA_SO_PIN"));
  TESSERA_ASSIGN_OR_RETURN(pins.online_user_pin, PinFromEnv("TESSERA_CA_PIN"));
  TESSERA_RETURN_IF_ERROR(InitLogging("tessera-ceremony"));
  SystemClock clock;
  TESSERA_ASSIGN_OR_RETURN(ca::CeremonyRecord record, ca::RunCeremony(config, pins, clock));
  nlohmann::json json = {{"files", record.files}, {"fingerprints", nlohmann::json::object()}};
  std::string text = "ceremony complete; certificates (SHA-256 fingerprints):";
  for (const auto& [name, fingerprint] : record.fingerprints) {
    json["fingerprints"][name] = fingerprint;
    text += absl::StrFormat("\n  %-18s %s", name, fingerprint);
  }
  text += "\nwritten to " + config.output_dir;
  Print(args, json, text);
  return absl::OkStatus();
}

absl::Status CaIssue(const Args& args) {
  const std::string profile = args.Get("profile");
  TESSERA_ASSIGN_OR_RETURN(std::string csr, CsrDer(args.Get("csr")));
  v1::IssueCertificateRequest request;
  request.set_profile(profile);
  request.set_csr_der(csr);
  v1::SubjectData* subject = request.mutable_subject();
  subject->set_codice_fiscale(args.Get("cf"));
  subject->set_istat(args.Get("istat"));
  TESSERA_ASSIGN_OR_RETURN(int progressive, ParseDigits(args.Or("progressive", "0"), 6,
                                                        "--progressive: a number from 1 to 9999"));
  subject->set_progressive(static_cast<uint32_t>(progressive));
  subject->set_service(args.Get("service"));
  for (const std::string& dns : args.All("dns")) subject->add_dns_names(dns);
  for (const std::string& ip : args.All("ip")) subject->add_ip_addresses(ip);
  // Without --request-id, the same command run twice is the same request (a safe retry).
  std::string request_id = args.Get("request-id");
  if (request_id.empty()) {
    auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
    sha256->update(profile + "\n" + csr + "\n" + subject->SerializeAsString());
    request_id = "cli-" + Botan::hex_encode(sha256->final(), false).substr(0, 32);
  }
  request.set_request_id(request_id);

  TESSERA_ASSIGN_OR_RETURN(auto channel, ServiceChannel(args));
  grpc::ClientContext context;
  Deadline(context);
  v1::Certificate issued;
  TESSERA_RETURN_IF_ERROR(FromGrpc(Stub(channel)->IssueCertificate(&context, request, &issued)));
  const std::string out = args.Get("out");
  if (!out.empty()) TESSERA_RETURN_IF_ERROR(WriteFile(out, Pem(issued.der())));
  nlohmann::json json = ToJson(issued);
  json["request_id"] = request_id;
  Print(args, json,
        absl::StrCat("issued ", issued.serial(), " by ", issued.issuer(), ": ", issued.subject(),
                     out.empty() ? "" : "\nwritten to " + out));
  return absl::OkStatus();
}

absl::Status CaGet(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(auto channel, ServiceChannel(args));
  grpc::ClientContext context;
  Deadline(context);
  v1::GetCertificateRequest request;
  request.set_serial(args.Get("serial"));
  v1::Certificate found;
  TESSERA_RETURN_IF_ERROR(FromGrpc(Stub(channel)->GetCertificate(&context, request, &found)));
  const std::string out = args.Get("out");
  if (!out.empty() && !found.der().empty())
    TESSERA_RETURN_IF_ERROR(WriteFile(out, Pem(found.der())));
  Print(args, ToJson(found), ToText(found));
  return absl::OkStatus();
}

absl::Status CaList(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(auto channel, ServiceChannel(args));
  v1::ListCertificatesRequest request;
  request.set_issuer(args.Get("issuer"));
  request.set_profile(args.Get("profile"));
  request.set_subject_contains(args.Get("subject"));
  request.set_only_revoked(args.Get("revoked") == "true");
  TESSERA_ASSIGN_OR_RETURN(
      int page_size, ParseDigits(args.Get("page-size"), 4, "--page-size: a number from 1 to 1000"));
  request.set_page_size(page_size);
  request.set_page_token(args.Get("page-token"));
  grpc::ClientContext context;
  Deadline(context);
  v1::ListCertificatesResponse page;
  TESSERA_RETURN_IF_ERROR(FromGrpc(Stub(channel)->ListCertificates(&context, request, &page)));
  nlohmann::json json = {{"certificates", nlohmann::json::array()},
                         {"next_page_token", page.next_page_token()}};
  std::string text;
  for (const v1::Certificate& c : page.certificates()) {
    json["certificates"].push_back(ToJson(c));
    text += ToText(c) + "\n";
  }
  text += page.next_page_token().empty() ? absl::StrCat(page.certificates_size(), " certificates")
                                         : "more: --page-token " + page.next_page_token();
  Print(args, json, text);
  return absl::OkStatus();
}

absl::Status CaRevoke(const Args& args) {
  const std::string serial = args.Get("serial");
  const int reason = std::stoi(args.Get("reason"));  // the parser took only a reason code
  v1::RevokeCertificateRequest request;
  request.set_serial(serial);
  request.set_reason(reason);
  // Without --request-id, the same command run twice is the same revocation.
  request.set_request_id(
      args.Or("request-id", "cli-revoke-" + serial + "-" + std::to_string(reason)));
  TESSERA_ASSIGN_OR_RETURN(auto channel, ServiceChannel(args));
  grpc::ClientContext context;
  Deadline(context);
  v1::Certificate revoked;
  TESSERA_RETURN_IF_ERROR(FromGrpc(Stub(channel)->RevokeCertificate(&context, request, &revoked)));
  Print(args, ToJson(revoked), "revoked " + ToText(revoked));
  return absl::OkStatus();
}

absl::Status CaChain(const Args& args) {
  const std::string out_dir = args.Get("out-dir");
  TESSERA_ASSIGN_OR_RETURN(auto channel, ServiceChannel(args));
  grpc::ClientContext context;
  Deadline(context);
  v1::GetCaChainResponse chain;
  TESSERA_RETURN_IF_ERROR(FromGrpc(Stub(channel)->GetCaChain(&context, {}, &chain)));
  TESSERA_RETURN_IF_ERROR(WriteFile(out_dir + "/root.pem", Pem(chain.root_der())));
  nlohmann::json json = {{"root", out_dir + "/root.pem"}};
  std::string text = "root -> " + out_dir + "/root.pem";
  for (const auto& [name, der] : chain.issuing_der()) {
    TESSERA_RETURN_IF_ERROR(WriteFile(out_dir + "/" + name + ".pem", Pem(der)));
    json[name] = out_dir + "/" + name + ".pem";
    text += "\n" + name + " -> " + out_dir + "/" + name + ".pem";
  }
  Print(args, json, text);
  return absl::OkStatus();
}

absl::Status CaCrl(const Args& args) {
  const std::string format = args.Get("format");
  v1::GetCrlRequest request;
  request.set_issuer(args.Get("issuer"));
  TESSERA_ASSIGN_OR_RETURN(auto channel, ServiceChannel(args));
  grpc::ClientContext context;
  Deadline(context);
  v1::Crl crl;
  TESSERA_RETURN_IF_ERROR(FromGrpc(Stub(channel)->GetCrl(&context, request, &crl)));
  size_t revoked = 0;
  std::string pem;
  try {
    Botan::X509_CRL parsed(std::vector<uint8_t>(crl.der().begin(), crl.der().end()));
    revoked = parsed.get_revoked().size();
    pem = parsed.PEM_encode();
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat("the CA sent a CRL that does not parse: ", e.what()));
  }
  const std::string out = args.Get("out");
  if (!out.empty()) TESSERA_RETURN_IF_ERROR(WriteFile(out, format == "pem" ? pem : crl.der()));
  nlohmann::json json = {{"issuer", crl.issuer()},
                         {"crl_number", crl.crl_number()},
                         {"this_update", UtcText(crl.this_update_unix())},
                         {"next_update", UtcText(crl.next_update_unix())},
                         {"revoked", revoked}};
  if (!out.empty()) json["file"] = out;
  Print(args, json,
        absl::StrCat("CRL of ", crl.issuer(), ": number ", crl.crl_number(), ", ", revoked,
                     " revoked, thisUpdate ", UtcText(crl.this_update_unix()), ", nextUpdate ",
                     UtcText(crl.next_update_unix()),
                     out.empty() ? "" : absl::StrCat("\nwritten to ", out, " (", format, ")")));
  return absl::OkStatus();
}

absl::Status CaBundle(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(BundleOutputs outputs, BundleOutputsFrom(args));
  const std::string istat = args.Get("istat");
  TESSERA_ASSIGN_OR_RETURN(int progressive,
                           ParseDigits(args.Get("progressive"), 4,
                                       "--progressive: a number from 1 to 9999 (99: the comune)"));
  v1::IssueWorkstationBundleRequest request;
  request.set_istat(istat);
  request.set_progressive(static_cast<uint32_t>(progressive));
  // The key is made by the CA, so nothing in the command tells two bundles apart: a new id
  // each time. A rerun after a lost answer is told the bundle exists (ca bundle-get fetches
  // it) or is pending (rerun with the printed --request-id).
  std::string request_id = args.Get("request-id");
  if (request_id.empty()) {
    Botan::AutoSeeded_RNG rng;
    request_id = absl::StrCat("cli-bundle-", istat, "-", progressive, "-",
                              Botan::hex_encode(rng.random_vec(8), false));
  }
  request.set_request_id(request_id);
  TESSERA_ASSIGN_OR_RETURN(auto channel, ServiceChannel(args));
  grpc::ClientContext context;
  Deadline(context);
  v1::WorkstationBundle bundle;
  absl::Status status = FromGrpc(Stub(channel)->IssueWorkstationBundle(&context, request, &bundle));
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat(status.message(), " (request_id ", request_id, ")"));
  }
  return SaveBundle(args, outputs, bundle, {{"request_id", request_id}});
}

absl::Status CaBundleGet(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(BundleOutputs outputs, BundleOutputsFrom(args));
  v1::GetWorkstationBundleRequest request;
  request.set_serial(args.Get("serial"));
  TESSERA_ASSIGN_OR_RETURN(auto channel, ServiceChannel(args));
  grpc::ClientContext context;
  Deadline(context);
  v1::WorkstationBundle bundle;
  TESSERA_RETURN_IF_ERROR(
      FromGrpc(Stub(channel)->GetWorkstationBundle(&context, request, &bundle)));
  return SaveBundle(args, outputs, bundle, nlohmann::json::object());
}

absl::Status CaRenewService(const Args& args) {
  const std::string service = args.Get("service");
  const std::string dir = args.Get("dir");
  const std::string chain_path = dir + "/" + service + ".pem";
  const std::string key_path = dir + "/" + service + ".key";
  v1::RenewServiceCertificateRequest request;
  v1::SubjectData* subject = request.mutable_subject();
  subject->set_service(service);
  for (const std::string& dns : args.All("dns")) subject->add_dns_names(dns);
  for (const std::string& ip : args.All("ip")) subject->add_ip_addresses(ip);
  if (subject->dns_names().empty() && subject->ip_addresses().empty()) {
    // The names the service answers on stay those of its current certificate.
    TESSERA_ASSIGN_OR_RETURN(std::string current, ReadFile(chain_path));
    try {
      Botan::DataSource_Memory source(current);
      Botan::X509_Certificate cert(source);
      for (const std::string& dns : cert.subject_alt_name().get_attribute("DNS"))
        subject->add_dns_names(dns);
      for (const std::string& ip : cert.subject_alt_name().get_attribute("IP"))
        subject->add_ip_addresses(ip);
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat(chain_path, ": not a certificate (give --dns/--ip): ", e.what()));
    }
  }
  // A new key every renewal: a key that may have been copied stays with the old certificate.
  Botan::AutoSeeded_RNG rng;
  Botan::ECDSA_PrivateKey key(rng, Botan::EC_Group("secp256r1"));
  const std::vector<uint8_t> csr =
      Botan::X509::create_cert_req(Botan::X509_Cert_Options(service), key, "SHA-256", rng)
          .BER_encode();
  request.set_csr_der(std::string(csr.begin(), csr.end()));
  std::string request_id = args.Get("request-id");
  if (request_id.empty()) {
    auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
    sha256->update(key.public_key_bits());
    request_id = "renew-" + service + "-" + Botan::hex_encode(sha256->final(), false).substr(0, 24);
  }
  request.set_request_id(request_id);

  TESSERA_ASSIGN_OR_RETURN(auto channel, ServiceChannel(args));
  v1::Certificate renewed;
  {
    grpc::ClientContext context;
    Deadline(context);
    TESSERA_RETURN_IF_ERROR(
        FromGrpc(Stub(channel)->RenewServiceCertificate(&context, request, &renewed)));
  }
  v1::GetCaChainResponse chain;
  {
    grpc::ClientContext context;
    Deadline(context);
    TESSERA_RETURN_IF_ERROR(
        FromGrpc(Stub(channel)->GetCaChain(&context, v1::GetCaChainRequest(), &chain)));
  }
  auto issuing = chain.issuing_der().find(renewed.issuer());
  if (issuing == chain.issuing_der().end()) {
    return absl::UnavailableError("tessera-ca did not return issuing CA '" + renewed.issuer() +
                                  "'");
  }
  // The key first, then the chain: the service's file watcher takes a pair only when key and
  // certificate match, so it never serves a half-written identity.
  TESSERA_RETURN_IF_ERROR(WriteSecretFile(key_path, Botan::PKCS8::PEM_encode(key)));
  TESSERA_RETURN_IF_ERROR(WriteFile(chain_path, Pem(renewed.der()) + Pem(issuing->second)));
  nlohmann::json json = ToJson(renewed);
  json["request_id"] = request_id;
  json["files"] = {chain_path, key_path};
  Print(args, json,
        absl::StrCat("renewed ", service, ": ", renewed.serial(), " valid until ",
                     UtcText(renewed.not_after_unix()), "\nwritten to ", chain_path, " and ",
                     key_path,
                     "\nthe service takes it up within tls.reload_seconds; revoke the old "
                     "certificate (reason 4, superseded) once every copy is replaced"));
  return absl::OkStatus();
}

absl::Status CeremonyRootCrl(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(ca::CeremonyConfig config,
                           ca::CeremonyConfig::LoadFile(args.Get("config")));
  const int reason = std::stoi(args.Get("reason"));  // the parser took only a reason code
  std::vector<ca::CaRevocation> revocations;
  for (const std::string& ca : args.All("revoke")) revocations.push_back({ca, reason});
  TESSERA_ASSIGN_OR_RETURN(Secret root_pin, PinFromEnv("TESSERA_ROOT_PIN"));
  TESSERA_RETURN_IF_ERROR(InitLogging("tessera-ceremony"));
  SystemClock clock;
  TESSERA_ASSIGN_OR_RETURN(ca::RootCrlResult result,
                           ca::ReissueRootCrl(config, root_pin, revocations, clock));
  nlohmann::json json = {{"file", result.path},
                         {"crl_number", result.number},
                         {"entries", result.entries},
                         {"next_update", UtcText(UnixSeconds(result.next_update))}};
  Print(args, json,
        absl::StrCat("root CRL number ", result.number, " signed (", result.entries,
                     " issuing CA(s) revoked), valid until ",
                     UtcText(UnixSeconds(result.next_update)), "\nwritten to ", result.path,
                     "\ncopy it to tessera-ca's ca.root_crl: it serves the new one within "
                     "seconds"));
  return absl::OkStatus();
}

void AddNames(CLI::App& command) {
  command.add_option("--dns", "a DNS name (repeatable)")->type_name("D")->take_all();
  command.add_option("--ip", "an IP address (repeatable)")->type_name("A")->take_all();
}

// The subject data a profile takes: --cf for an operator, --istat/--progressive for a
// workstation, --service/--dns/--ip for a service.
void AddSubjectOptions(CLI::App& command) {
  command.add_option("--cf", "the holder's codice fiscale (operator)")->type_name("CF");
  command.add_option("--istat", "the comune's ISTAT code (workstation)")->type_name("N");
  command.add_option("--progressive", "the workstation's number (workstation)")->type_name("N");
  command.add_option("--service", "the service's name (service)")->type_name("S");
  AddNames(command);
}

void AddRequestId(CLI::App& command, const std::string& without) {
  command.add_option("--request-id")
      ->description("the request's id; without it, " + without)
      ->type_name("ID");
}

void AddBundleOutputs(CLI::App& command) {
  command.add_option("--out", "the PKCS#12 file (- for stdout)")->type_name("FILE.p12")->required();
  command.add_option("--password-out", "its password's file (default FILE.p12.pass)")
      ->type_name("FILE");
  command.add_flag("--show-password")->description("print the password too");
}

}  // namespace

void AddCaCommands(CLI::App& app) {
  CLI::App* ceremony = AddCommand(
      app, "ceremony", "the key ceremony: root, issuing CAs, OCSP responders, service certificates",
      Ceremony,
      "The root on its own token, the issuing CAs and their OCSP responders on the online token, "
      "TLS certificates for the services; also signs the root's first CRL (root.crl).\nPINs "
      "from TESSERA_ROOT_SO_PIN, TESSERA_ROOT_PIN, TESSERA_CA_SO_PIN and TESSERA_CA_PIN (or "
      "their _FILE credential files), never from arguments.");
  CLI::Option* ceremony_config = ceremony->add_option("--config", "the ceremony's configuration")
                                     ->type_name("FILE")
                                     ->required();

  CLI::App* root_crl = AddCommand(
      *ceremony, "root-crl", "the root's next CRL, signed on the offline root token",
      CeremonyRootCrl,
      "Every earlier entry, the issuing CAs named by --revoke revoked, cRLNumber + 1. The PIN "
      "from TESSERA_ROOT_PIN (or TESSERA_ROOT_PIN_FILE). Copy the CRL to tessera-ca's "
      "ca.root_crl: it serves the new one within seconds.");
  // root-crl has its own --config: the ceremony's is not asked for when root-crl runs.
  root_crl->preparse_callback([ceremony_config](size_t) { ceremony_config->required(false); });
  root_crl->add_option("--config", "the ceremony's configuration")->type_name("FILE")->required();
  root_crl->add_option("--revoke", "an issuing CA to revoke (repeatable)")
      ->type_name("CA")
      ->take_all();
  root_crl
      ->add_option("--reason",
                   "why: 0 unspecified, 2 cACompromise, 3 affiliationChanged, 4 superseded, 5 "
                   "cessationOfOperation")
      ->type_name("N")
      ->check(CLI::IsMember({"0", "2", "3", "4", "5"}))  // the CA reasons ca/root_crl.cc takes
      ->default_str("0");

  CLI::App* ca =
      AddGroup(app, "ca", "the certificate authority, tessera-ca", ConnectsTo("tessera-ca"));

  CLI::App* issue = AddCommand(*ca, "issue", "issue a certificate for a PKCS#10 request", CaIssue,
                               "The subject data the profile takes: --cf (operator), --istat "
                               "--progressive (workstation), --service --dns --ip (service).");
  issue->add_option("--profile", "the certificate profile (operator, workstation …)")
      ->type_name("P")
      ->required();
  issue->add_option("--csr", "the request, PEM or DER")->type_name("FILE")->required();
  AddSubjectOptions(*issue);
  AddRequestId(*issue, "derived from the request, so running the command again is a safe retry");
  issue->add_option("--out", "where the certificate (PEM) goes")->type_name("FILE");

  CLI::App* get = AddCommand(*ca, "get", "a certificate by serial", CaGet);
  get->add_option("--serial", "the certificate's serial")->type_name("S")->required();
  get->add_option("--out", "where the certificate (PEM) goes")->type_name("FILE");

  CLI::App* list = AddCommand(*ca, "list", "certificates on record, a page at a time", CaList);
  list->add_option("--issuer", "only this issuing CA's")->type_name("I");
  list->add_option("--profile", "only this profile's")->type_name("P");
  list->add_option("--subject", "only subjects containing TEXT")->type_name("TEXT");
  list->add_option("--revoked", "true: only revoked certificates")
      ->type_name("BOOL")
      ->check(CLI::IsMember({"true", "false"}));
  list->add_option("--page-size", "certificates per page, 1 to 1000")
      ->type_name("N")
      ->default_str("50");
  list->add_option("--page-token", "the next page, as the previous one printed")->type_name("T");

  CLI::App* chain =
      AddCommand(*ca, "chain", "the root and issuing CA certificates, as PEM files", CaChain);
  chain->add_option("--out-dir", "where root.pem and <issuer>.pem go")
      ->type_name("DIR")
      ->required();

  CLI::App* crl =
      AddCommand(*ca, "crl", "an issuing CA's current CRL: number, dates, entries", CaCrl);
  crl->add_option("--issuer", "the issuing CA")->type_name("CA")->required();
  crl->add_option("--out", "where the CRL goes (- for stdout, the report then on stderr)")
      ->type_name("FILE");
  crl->add_option("--format", "the file's encoding")
      ->type_name("FMT")
      ->check(CLI::IsMember({"der", "pem"}))
      ->default_str("der");

  CLI::App* bundle = AddCommand(
      *ca, "bundle", "a workstation's key, certificate and chain as a PKCS#12 file", CaBundle,
      "Progressive 99 is the comune's server certificate. The password goes to --password-out "
      "(default FILE.p12.pass; both files mode 0600) and is printed only with --show-password.");
  bundle->add_option("--istat", "the comune's ISTAT code")->type_name("N")->required();
  bundle->add_option("--progressive", "the workstation's number, 1 to 9999 (99: the comune)")
      ->type_name("N")
      ->required();
  AddBundleOutputs(*bundle);
  AddRequestId(*bundle,
               "a new one each time (printed with any error: rerun with it after a lost answer)");

  CLI::App* bundle_get = AddCommand(*ca, "bundle-get",
                                    "a workstation bundle issued before, e.g. for the ALP's "
                                    "download",
                                    CaBundleGet);
  bundle_get->add_option("--serial", "the workstation certificate's serial")
      ->type_name("S")
      ->required();
  AddBundleOutputs(*bundle_get);

  CLI::App* renew = AddCommand(
      *ca, "renew-service", "a new key and certificate for a tessera service", CaRenewService,
      "For the names the service profile's renewable_services lists; written over PKI_DIR/NAME.key "
      "and NAME.pem, which the service takes up without a restart. Without --dns/--ip the names "
      "of its current certificate.");
  renew->add_option("--service", "the service's name")->type_name("NAME")->required();
  renew->add_option("--dir", "the directory of its key and certificate")
      ->type_name("PKI_DIR")
      ->required();
  AddNames(*renew);
  AddRequestId(*renew, "derived from the new key");

  CLI::App* revoke = AddCommand(*ca, "revoke", "revoke a certificate", CaRevoke);
  revoke->add_option("--serial", "the certificate's serial")->type_name("S")->required();
  revoke
      ->add_option("--reason",
                   "why: 0 unspecified, 1 keyCompromise, 3 affiliationChanged, 4 superseded, 5 "
                   "cessationOfOperation, 9 privilegeWithdrawn")
      ->type_name("N")
      ->required()
      ->check(CLI::IsMember({"0", "1", "3", "4", "5", "9"}));  // the leaf reasons the CA takes
  AddRequestId(*revoke,
               "derived from serial and reason, so running the command again is a safe retry");
}

}  // namespace tessera::cli
