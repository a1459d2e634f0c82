#include "services/registry/handlers.h"

#include <chrono>

#include "platform/clock.h"
#include "platform/grpc_status.h"
#include "platform/rpc_server.h"
#include "proto/common.pb.h"
#include "registry/census_json.h"

namespace tessera::registry_service {
namespace {

namespace registry = tessera::registry;

constexpr char kService[] = "/tessera.v1.Registry/";
constexpr char kMinistry[] = "tessera-cli";

// A comune may act only on its own census: a workstation certificate's CN starts with its
// 6-digit ISTAT code (CN=<ISTAT><progressive>); an access code names it.
grpc::Status CheckScope(const grpc::ServerContext& context, const std::string& istat) {
  absl::StatusOr<Principal> caller = CallerOf(context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (caller->kind == PrincipalKind::kService && caller->name == kMinistry) {
    return grpc::Status::OK;
  }
  if (caller->kind == PrincipalKind::kWorkstation && caller->name.size() >= 6 &&
      caller->name.compare(0, 6, istat) == 0) {
    return grpc::Status::OK;
  }
  if (caller->kind == PrincipalKind::kAccessCode && caller->name == istat) {
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      "istat: a comune may act only on its own census ('" + caller->name +
                          "' may not act for " + istat + ")");
}

// INVALID_ARGUMENT with every violation as a serialized BadRequest detail.
grpc::Status Refused(const absl::Status& status, const registry::Refusal& refusal) {
  v1::BadRequest details;
  for (const registry::ImportError& e : refusal.violations) {
    v1::FieldViolation* v = details.add_violations();
    v->set_field(e.column);
    v->set_rule(e.rule);
    v->set_row(static_cast<uint32_t>(e.line));
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      details.SerializeAsString());
}

absl::StatusOr<registry::ComuneCensus> FromProto(const v1::ComuneCensus& p) {
  registry::ComuneCensus c{
      .istat = p.istat(),
      .name = p.name(),
      .address = p.address(),
      .cap = p.cap(),
      .phone = p.phone(),
      .fax = p.fax(),
      .email = p.email(),
      .pec = p.pec(),
      .mayor_surname = p.mayor_surname(),
      .mayor_name = p.mayor_name(),
      .it_supplier = p.it_supplier(),
      .registry_software = p.registry_software(),
      .vat_number = p.vat_number(),
      .workstations = static_cast<int>(std::min<uint32_t>(p.workstations(), 100000))};
  for (int i = 0; i < p.users_size(); ++i) {
    const v1::CensusUser& u = p.users(i);
    registry::CensusUser user{.name = u.name(),
                              .surname = u.surname(),
                              .codice_fiscale = u.codice_fiscale(),
                              .birth_place = u.birth_place(),
                              .birth_province = u.birth_province(),
                              .sex = u.sex(),
                              .email = u.email(),
                              .profiles = {u.profiles().begin(), u.profiles().end()}};
    if (!u.birth_date().empty()) {
      absl::StatusOr<std::chrono::year_month_day> date = registry::ParseIsoDate(u.birth_date());
      if (!date.ok()) {
        return absl::InvalidArgumentError("users[" + std::to_string(i) +
                                          "].birth_date: " + std::string(date.status().message()));
      }
      user.birth_date = *date;
    }
    c.users.push_back(std::move(user));
  }
  return c;
}

void ToProto(const registry::ComuneCensus& c, v1::ComuneCensus* p) {
  p->set_istat(c.istat);
  p->set_name(c.name);
  p->set_address(c.address);
  p->set_cap(c.cap);
  p->set_phone(c.phone);
  p->set_fax(c.fax);
  p->set_email(c.email);
  p->set_pec(c.pec);
  p->set_mayor_surname(c.mayor_surname);
  p->set_mayor_name(c.mayor_name);
  p->set_it_supplier(c.it_supplier);
  p->set_registry_software(c.registry_software);
  p->set_vat_number(c.vat_number);
  p->set_workstations(static_cast<uint32_t>(std::max(c.workstations, 0)));
  for (const registry::CensusUser& u : c.users) {
    v1::CensusUser* out = p->add_users();
    out->set_name(u.name);
    out->set_surname(u.surname);
    out->set_codice_fiscale(u.codice_fiscale);
    if (u.birth_date.ok()) out->set_birth_date(registry::IsoDate(u.birth_date));
    out->set_birth_place(u.birth_place);
    out->set_birth_province(u.birth_province);
    out->set_sex(u.sex);
    out->set_email(u.email);
    for (const std::string& profile : u.profiles) out->add_profiles(profile);
  }
}

grpc::Status ToProto(const registry::CensusRecord& record, v1::Census* out) {
  out->set_owner(record.owner);
  out->set_submitted(record.submitted);
  out->set_revision(static_cast<uint32_t>(record.revision));
  out->set_saved_at_unix(UnixSeconds(record.saved_at));
  if (record.submitted_at) out->set_submitted_at_unix(UnixSeconds(*record.submitted_at));
  absl::StatusOr<registry::ComuneCensus> census = registry::ComuneCensusFromJson(record.document);
  if (!census.ok()) return ToGrpcStatus(absl::InternalError("stored census unreadable"));
  ToProto(*census, out->mutable_comune());
  return grpc::Status::OK;
}

}  // namespace

grpc::Status RegistryHandlers::LoadReference(grpc::ServerContext*,
                                             const v1::LoadReferenceRequest* request,
                                             v1::LoadReferenceResponse* response) {
  absl::StatusOr<registry::ReferenceLoadReport> report =
      office_.LoadReference(request->comuni_csv(), request->cadastral_codes_csv());
  if (!report.ok()) return ToGrpcStatus(report.status());
  response->set_provinces_added(report->provinces_added);
  response->set_provinces_changed(report->provinces_changed);
  response->set_provinces_ceased(report->provinces_ceased);
  response->set_comuni_added(report->comuni_added);
  response->set_comuni_changed(report->comuni_changed);
  response->set_comuni_ceased(report->comuni_ceased);
  response->set_cadastral_codes(report->cadastral_codes);
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::SetDeclaration(grpc::ServerContext*,
                                              const v1::SetDeclarationRequest* request,
                                              v1::SetDeclarationResponse*) {
  absl::StatusOr<std::chrono::year_month_day> switch_over =
      registry::ParseIsoDate(request->switch_over());
  if (!switch_over.ok()) {
    return ToGrpcStatus(
        absl::InvalidArgumentError("switch_over: " + std::string(switch_over.status().message())));
  }
  return ToGrpcStatus(office_.SetDeclaration(
      request->istat(), {.declared_workstations = static_cast<int>(
                             std::min<uint32_t>(request->declared_workstations(), 100000)),
                         .declared_employees = static_cast<int>(
                             std::min<uint32_t>(request->declared_employees(), 1000000)),
                         .switch_over = *switch_over}));
}

grpc::Status RegistryHandlers::SaveDraft(grpc::ServerContext* context,
                                         const v1::SaveDraftRequest* request,
                                         v1::Census* response) {
  if (grpc::Status scope = CheckScope(*context, request->census().istat()); !scope.ok()) {
    return scope;
  }
  absl::StatusOr<registry::ComuneCensus> census = FromProto(request->census());
  if (!census.ok()) return ToGrpcStatus(census.status());
  absl::StatusOr<registry::CensusRecord> saved = office_.SaveDraft(*census);
  if (!saved.ok()) return ToGrpcStatus(saved.status());
  return ToProto(*saved, response);
}

grpc::Status RegistryHandlers::GetCensus(grpc::ServerContext* context,
                                         const v1::GetCensusRequest* request,
                                         v1::Census* response) {
  if (grpc::Status scope = CheckScope(*context, request->istat()); !scope.ok()) return scope;
  absl::StatusOr<registry::CensusRecord> record =
      office_.Get(registry::CensusKind::kComune, request->istat());
  if (!record.ok()) return ToGrpcStatus(record.status());
  return ToProto(*record, response);
}

grpc::Status RegistryHandlers::ListCensuses(grpc::ServerContext*,
                                            const v1::ListCensusesRequest* request,
                                            v1::ListCensusesResponse* response) {
  registry::CensusFilter filter;
  if (request->state() == "draft") {
    filter.submitted = false;
  } else if (request->state() == "submitted") {
    filter.submitted = true;
  } else if (!request->state().empty()) {
    return ToGrpcStatus(absl::InvalidArgumentError("state: \"\", \"draft\" or \"submitted\""));
  }
  filter.page_token = request->page_token();
  filter.page_size = request->page_size() == 0
                         ? 100
                         : static_cast<int>(std::min<uint32_t>(request->page_size(), 100000));
  absl::StatusOr<std::vector<registry::CensusSummary>> page = office_.List(filter);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const registry::CensusSummary& c : *page) {
    v1::CensusSummary* out = response->add_censuses();
    out->set_istat(c.owner);
    out->set_name(c.name);
    out->set_submitted(c.submitted);
    out->set_revision(static_cast<uint32_t>(c.revision));
    out->set_users(static_cast<uint32_t>(c.users));
    out->set_saved_at_unix(UnixSeconds(c.saved_at));
  }
  if (static_cast<int>(page->size()) == filter.page_size) {
    response->set_next_page_token(page->back().owner);
  }
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::SubmitCensus(grpc::ServerContext* context,
                                            const v1::SubmitCensusRequest* request,
                                            v1::SubmitCensusResponse* response) {
  if (grpc::Status scope = CheckScope(*context, request->census().istat()); !scope.ok()) {
    return scope;
  }
  absl::StatusOr<registry::ComuneCensus> census = FromProto(request->census());
  if (!census.ok()) return ToGrpcStatus(census.status());
  registry::Refusal refusal;
  absl::StatusOr<registry::SubmitResult> result = office_.SubmitComune(*census, refusal);
  if (!result.ok()) return Refused(result.status(), refusal);
  if (grpc::Status s = ToProto(result->census, response->mutable_census()); !s.ok()) return s;
  for (const registry::CardOrder& o : result->card_orders)
    response->add_card_numbers(o.card_number);
  for (const registry::WorkstationOrder& o : result->workstation_orders) {
    char progressive[8];
    std::snprintf(progressive, sizeof progressive, "%04d", o.progressive);
    response->add_workstation_common_ids(o.owner + progressive);
  }
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::ImportCensus(grpc::ServerContext*,
                                            const v1::ImportCensusRequest* request,
                                            v1::ImportCensusResponse* response) {
  registry::Refusal refusal;
  absl::StatusOr<std::vector<std::string>> saved = office_.Import(request->csv(), refusal);
  if (!saved.ok()) return Refused(saved.status(), refusal);
  for (const std::string& istat : *saved) response->add_saved_istat(istat);
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::IssueAccessCode(grpc::ServerContext*,
                                               const v1::IssueAccessCodeRequest* request,
                                               v1::IssueAccessCodeResponse* response) {
  absl::StatusOr<registry::CensusOffice::IssuedAccessCode> issued =
      office_.IssueAccessCode(request->istat());
  if (!issued.ok()) return ToGrpcStatus(issued.status());
  response->set_access_code(std::string(issued->code.view()));
  response->set_expires_at_unix(UnixSeconds(issued->expires_at));
  return grpc::Status::OK;
}

absl::StatusOr<Principal> AccessCodeCaller(registry::CensusOffice& office,
                                           std::string_view credential) {
  if (!credential.starts_with(kAccessCodeScheme)) {
    return absl::UnauthenticatedError(
        "authorization: expected \"AccessCode <code>\" (or a client certificate)");
  }
  credential.remove_prefix(kAccessCodeScheme.size());
  absl::StatusOr<std::string> istat = office.CheckAccessCode(credential);
  if (!istat.ok()) return istat.status();
  return Principal{PrincipalKind::kAccessCode, *istat};
}

std::vector<RpcRule> RegistryPolicy() {
  const std::string s = kService;
  const std::vector<PrincipalKind> service = {PrincipalKind::kService};
  const std::vector<PrincipalKind> comune = {PrincipalKind::kService, PrincipalKind::kWorkstation,
                                             PrincipalKind::kAccessCode};
  return {
      {s + "LoadReference", service, {kMinistry}, "the Ministry loads ISTAT's lists"},
      {s + "SetDeclaration", service, {kMinistry}, "the Ministry records monitoring sheets"},
      {s + "ImportCensus", service, {kMinistry}, "bulk census files come through the Ministry"},
      {s + "ListCensuses", service, {kMinistry}, "the Ministry follows every comune's census"},
      {s + "IssueAccessCode", service, {kMinistry}, "the Ministry lets a comune in"},
      {s + "SaveDraft",
       comune,
       {},
       "a comune (workstation or access code) or the Ministry; scope checked"},
      {s + "GetCensus",
       comune,
       {},
       "a comune (workstation or access code) or the Ministry; scope checked"},
      {s + "SubmitCensus",
       comune,
       {},
       "a comune (workstation or access code) or the Ministry; scope checked"},
  };
}

}  // namespace tessera::registry_service
