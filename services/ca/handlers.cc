#include "services/ca/handlers.h"

#include <chrono>
#include <map>
#include <set>

#include "platform/clock.h"
#include "platform/grpc_status.h"
#include "platform/rpc_server.h"
#include "services/sessions/registry_sessions.h"

namespace tessera::ca_service {
namespace {

void ToProto(const ca::CertificateRecord& record, v1::Certificate* out) {
  out->set_serial(record.serial);
  out->set_issuer(record.issuer);
  out->set_profile(record.profile);
  out->set_subject(record.subject);
  out->set_der(std::string(record.der.begin(), record.der.end()));
  out->set_not_before_unix(UnixSeconds(record.not_before));
  out->set_not_after_unix(UnixSeconds(record.not_after));
  out->set_state(record.state == ca::CertificateState::kIssued ? v1::Certificate::ISSUED
                                                               : v1::Certificate::INTENT);
  out->set_revoked(record.revoked_at.has_value());
  if (record.revoked_at) out->set_revoked_at_unix(UnixSeconds(*record.revoked_at));
  if (record.revocation_reason) out->set_revocation_reason(*record.revocation_reason);
}

void ToProto(const ca::WorkstationBundle& bundle, v1::WorkstationBundle* out) {
  ToProto(bundle.certificate, out->mutable_certificate());
  out->set_pkcs12(std::string(bundle.pkcs12.begin(), bundle.pkcs12.end()));
  out->set_password(std::string(bundle.password.view()));
}

// Clamped so an absurd uint32 stays out of int range and is refused by the range check.
int Progressive(uint32_t progressive) {
  return static_cast<int>(std::min<uint32_t>(progressive, 1000000));
}

ca::SubjectData SubjectFromProto(const v1::SubjectData& s) {
  return {.codice_fiscale = s.codice_fiscale(),
          .istat = s.istat(),
          .progressive = Progressive(s.progressive()),
          .service = s.service(),
          .dns_names = {s.dns_names().begin(), s.dns_names().end()},
          .ip_addresses = {s.ip_addresses().begin(), s.ip_addresses().end()}};
}

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

// Which profiles each caller the policy lets call IssueCertificate may ask for: personalization
// produces cards (workstations come as bundles); the Ministry's CLI any profile the CA deems
// requestable ("*"; the CA refuses the others and unknown names itself).
grpc::Status CheckProfileAllowed(const grpc::ServerContext& context, const std::string& profile) {
  static const std::map<std::string, std::set<std::string>> kProfilesByCaller = {
      {"tessera-perso", {"operator"}},
      {"tessera-cli", {"*"}},
  };
  absl::StatusOr<Principal> caller = CallerOf(context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto allowed = kProfilesByCaller.find(caller->name);
  if (caller->kind != PrincipalKind::kService || allowed == kProfilesByCaller.end() ||
      !(allowed->second.contains("*") || allowed->second.contains(profile))) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "profile: '" + caller->name + "' may not request '" + profile + "'");
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::Status CertificateAuthorityHandlers::IssueCertificate(
    grpc::ServerContext* context, const v1::IssueCertificateRequest* request,
    v1::Certificate* response) {
  if (grpc::Status allowed = CheckProfileAllowed(*context, request->profile()); !allowed.ok()) {
    return allowed;
  }
  absl::StatusOr<Actor> actor = ActorOf(*context);
  if (!actor.ok()) return ToGrpcStatus(actor.status());
  absl::StatusOr<ca::CertificateRecord> issued =
      ca_.Issue({.request_id = request->request_id(),
                 .profile = request->profile(),
                 .csr_der = Bytes(request->csr_der()),
                 .subject = SubjectFromProto(request->subject())},
                *actor);
  if (!issued.ok()) return ToGrpcStatus(issued.status());
  ToProto(*issued, response);
  return grpc::Status::OK;
}

grpc::Status CertificateAuthorityHandlers::IssueCertificates(
    grpc::ServerContext* context, const v1::IssueCertificatesRequest* request,
    v1::IssueCertificatesResponse* response) {
  std::vector<ca::IssueRequest> requests;
  requests.reserve(request->requests_size());
  for (const v1::IssueCertificateRequest& r : request->requests()) {
    if (grpc::Status allowed = CheckProfileAllowed(*context, r.profile()); !allowed.ok()) {
      return allowed;
    }
    requests.push_back({.request_id = r.request_id(),
                        .profile = r.profile(),
                        .csr_der = Bytes(r.csr_der()),
                        .subject = SubjectFromProto(r.subject())});
  }
  absl::StatusOr<Actor> actor = ActorOf(*context);
  if (!actor.ok()) return ToGrpcStatus(actor.status());
  absl::StatusOr<std::vector<absl::StatusOr<ca::CertificateRecord>>> issued =
      ca_.IssueBatch(requests, *actor);
  if (!issued.ok()) return ToGrpcStatus(issued.status());
  for (const absl::StatusOr<ca::CertificateRecord>& one : *issued) {
    v1::IssueCertificatesResponse::Result* result = response->add_results();
    if (one.ok()) {
      ToProto(*one, result->mutable_certificate());
    } else {
      result->set_code(static_cast<int>(one.status().code()));
      result->set_message(std::string(one.status().message()));
    }
  }
  return grpc::Status::OK;
}

grpc::Status CertificateAuthorityHandlers::GetCertificate(grpc::ServerContext* context,
                                                          const v1::GetCertificateRequest* request,
                                                          v1::Certificate* response) {
  absl::StatusOr<Actor> reader = ActorOf(*context);
  if (!reader.ok()) return ToGrpcStatus(reader.status());
  absl::StatusOr<ca::CertificateRecord> found = ca_.Read(*reader, request->serial());
  if (!found.ok()) return ToGrpcStatus(found.status());
  ToProto(*found, response);
  return grpc::Status::OK;
}

grpc::Status CertificateAuthorityHandlers::ListCertificates(
    grpc::ServerContext* context, const v1::ListCertificatesRequest* request,
    v1::ListCertificatesResponse* response) {
  absl::StatusOr<Actor> reader = ActorOf(*context);
  if (!reader.ok()) return ToGrpcStatus(reader.status());
  ca::CertificateFilter filter{.issuer = request->issuer(),
                               .profile = request->profile(),
                               .subject_contains = request->subject_contains(),
                               .page_size = request->page_size() == 0 ? 50 : request->page_size(),
                               .page_token = request->page_token()};
  if (request->only_revoked()) filter.revoked = true;
  absl::StatusOr<std::vector<ca::CertificateRecord>> page = ca_.List(*reader, filter);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const ca::CertificateRecord& record : *page) ToProto(record, response->add_certificates());
  if (static_cast<int>(page->size()) == filter.page_size) {
    response->set_next_page_token(page->back().serial);
  }
  return grpc::Status::OK;
}

grpc::Status CertificateAuthorityHandlers::RevokeCertificate(
    grpc::ServerContext* context, const v1::RevokeCertificateRequest* request,
    v1::Certificate* response) {
  absl::StatusOr<Actor> actor = ActorOf(*context);
  if (!actor.ok()) return ToGrpcStatus(actor.status());
  absl::StatusOr<ca::CertificateRecord> revoked =
      ca_.Revoke(request->request_id(), request->serial(), request->reason(), *actor);
  if (!revoked.ok()) return ToGrpcStatus(revoked.status());
  ToProto(*revoked, response);
  return grpc::Status::OK;
}

grpc::Status CertificateAuthorityHandlers::GetCaChain(grpc::ServerContext*,
                                                      const v1::GetCaChainRequest*,
                                                      v1::GetCaChainResponse* response) {
  response->set_root_der(root_der_);
  for (const auto& [name, issuer] : ca_.issuers()) {
    std::vector<uint8_t> der = issuer->certificate().BER_encode();
    (*response->mutable_issuing_der())[name] = std::string(der.begin(), der.end());
  }
  return grpc::Status::OK;
}

grpc::Status CertificateAuthorityHandlers::GetCrl(grpc::ServerContext*,
                                                  const v1::GetCrlRequest* request,
                                                  v1::Crl* response) {
  if (!ca_.issuers().contains(request->issuer())) {
    std::string held;
    for (const auto& [name, issuer] : ca_.issuers()) held += (held.empty() ? "" : ", ") + name;
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "issuer: no issuing CA '" + request->issuer() + "' (held: " + held + ")");
  }
  absl::StatusOr<ca::CrlState> state = crls_.State(request->issuer());
  if (!state.ok()) return ToGrpcStatus(state.status());
  if (state->der.empty() || !state->this_update || !state->next_update) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "issuer '" + request->issuer() + "': no CRL signed yet");
  }
  response->set_issuer(request->issuer());
  response->set_der(std::string(state->der.begin(), state->der.end()));
  response->set_crl_number(state->crl_number);
  response->set_this_update_unix(UnixSeconds(*state->this_update));
  response->set_next_update_unix(UnixSeconds(*state->next_update));
  return grpc::Status::OK;
}

grpc::Status CertificateAuthorityHandlers::IssueWorkstationBundle(
    grpc::ServerContext* context, const v1::IssueWorkstationBundleRequest* request,
    v1::WorkstationBundle* response) {
  absl::StatusOr<Actor> actor = ActorOf(*context);
  if (!actor.ok()) return ToGrpcStatus(actor.status());
  absl::StatusOr<ca::WorkstationBundle> bundle =
      bundles_.Issue({.request_id = request->request_id(),
                      .istat = request->istat(),
                      .progressive = Progressive(request->progressive())},
                     *actor);
  if (!bundle.ok()) return ToGrpcStatus(bundle.status());
  ToProto(*bundle, response);
  return grpc::Status::OK;
}

grpc::Status CertificateAuthorityHandlers::GetWorkstationBundle(
    grpc::ServerContext* context, const v1::GetWorkstationBundleRequest* request,
    v1::WorkstationBundle* response) {
  absl::StatusOr<Actor> actor = ActorOf(*context);
  if (!actor.ok()) return ToGrpcStatus(actor.status());
  absl::StatusOr<ca::WorkstationBundle> bundle = bundles_.Get(request->serial(), *actor);
  if (!bundle.ok()) return ToGrpcStatus(bundle.status());
  ToProto(*bundle, response);
  return grpc::Status::OK;
}

grpc::Status CertificateAuthorityHandlers::RenewServiceCertificate(
    grpc::ServerContext* context, const v1::RenewServiceCertificateRequest* request,
    v1::Certificate* response) {
  absl::StatusOr<Actor> actor = ActorOf(*context);
  if (!actor.ok()) return ToGrpcStatus(actor.status());
  absl::StatusOr<ca::CertificateRecord> renewed =
      ca_.RenewService({.request_id = request->request_id(),
                        .csr_der = Bytes(request->csr_der()),
                        .subject = SubjectFromProto(request->subject())},
                       *actor);
  if (!renewed.ok()) return ToGrpcStatus(renewed.status());
  ToProto(*renewed, response);
  return grpc::Status::OK;
}

std::vector<RpcRule> CaPolicy(std::shared_ptr<const access::SessionGate> gate) {
  // The Ministry's hand: an operator's session at its machine (the CLI's certificate alone only
  // during the bootstrap, or on a tessera-ca configured without sessions).
  const sessions::MinistryRight ministry = sessions::MinistryRightAt(gate);
  const std::vector<PrincipalKind> services = {PrincipalKind::kService};
  // What each reader sees is narrowed by ca::ReadScopeOf (ca/read_scope.h).
  const std::vector<PrincipalKind> readers = {PrincipalKind::kService, PrincipalKind::kWorkstation,
                                              PrincipalKind::kOperator};
  const std::string read_why =
      "tessera services read every certificate; a workstation its comune's workstations; an "
      "operator card its own (scope: ca/read_scope.h)";
  return {
      {"/tessera.v1.CertificateAuthority/IssueCertificate",
       services,
       {"tessera-perso"},
       "only personalization and the Ministry issue certificates",
       ministry.certificate,
       ministry.persons},
      {"/tessera.v1.CertificateAuthority/IssueCertificates",
       services,
       {"tessera-perso"},
       "only personalization and the Ministry issue certificates",
       ministry.certificate,
       ministry.persons},
      {"/tessera.v1.CertificateAuthority/RevokeCertificate",
       services,
       {"tessera-registry", "tessera-perso"},
       "the registry revokes for the security console; the Ministry by hand; "
       "personalization withdraws the certificates of cards it gives up (its own, superseded: "
       "ca::CertificateAuthority::Revoke)",
       ministry.certificate,
       ministry.persons},
      {"/tessera.v1.CertificateAuthority/GetCertificate", readers, {}, read_why},
      {"/tessera.v1.CertificateAuthority/ListCertificates", readers, {}, read_why},
      {"/tessera.v1.CertificateAuthority/IssueWorkstationBundle",
       services,
       {"tessera-perso", "tessera-registry"},
       "personalization at census, the registry for a new workstation, the Ministry by hand",
       ministry.certificate,
       ministry.persons},
      {"/tessera.v1.CertificateAuthority/GetWorkstationBundle",
       services,
       {"tessera-registry"},
       "bundles hold keys and passwords: the registry hands them to the comune's ALP; the "
       "Ministry by hand",
       ministry.certificate,
       ministry.persons},
      {"/tessera.v1.CertificateAuthority/RenewServiceCertificate",
       {},
       {},
       "service identities are the Ministry's: only it renews them, and only the names the "
       "service profile lists",
       ministry.certificate,
       ministry.persons},
      {"/tessera.v1.CertificateAuthority/GetCrl",
       {PrincipalKind::kService, PrincipalKind::kOperator, PrincipalKind::kWorkstation},
       {},
       "CRLs are public"},
      {"/tessera.v1.CertificateAuthority/GetCaChain",
       {PrincipalKind::kService, PrincipalKind::kOperator, PrincipalKind::kWorkstation},
       {},
       "the chain is public"},
  };
}

}  // namespace tessera::ca_service
