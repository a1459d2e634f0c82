#include "services/registry/handlers.h"

#include <chrono>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "access/office.h"
#include "identity/codice_fiscale.h"
#include "platform/clock.h"
#include "platform/grpc_status.h"
#include "platform/request_id.h"
#include "platform/rpc_server.h"
#include "platform/status_macros.h"
#include "proto/common.pb.h"
#include "services/outbox/outbox_rpcs.h"
#include "services/sessions/registry_sessions.h"

namespace tessera::registry_service {
namespace {

namespace registry = tessera::registry;

constexpr char kService[] = "/tessera.v1.Registry/";

// Whose census a call acts on: a comune (by ISTAT code) or a prefettura (by province code).
struct Scope {
  registry::CensusKind kind;
  std::string owner;
  // The first six characters of the owner's workstation CNs (registry::OfficeCode).
  std::string WorkstationPrefix() const { return registry::OfficeCode(kind, owner); }
};

// The Ministry acts on every census; a comune or prefettura only on its own: by one of its
// workstation certificates (CN=<prefix><progressive>), or a person's session at one of them,
// or, a comune, by its access code.
absl::Status CheckScope(const Principal& caller, registry::CensusOffice& office,
                        const access::SessionGate* gate, const Scope& scope) {
  if (IsMinistry(office, gate, caller)) return absl::OkStatus();
  const std::string prefix = scope.WorkstationPrefix();
  const bool own_workstation = caller.kind == PrincipalKind::kWorkstation &&
                               caller.name.size() == prefix.size() + 4 &&
                               caller.name.starts_with(prefix);
  // An access code names its office as workstations are numbered.
  const bool own_code = caller.kind == PrincipalKind::kAccessCode && caller.name == prefix;
  if (own_workstation || own_code) {
    // A comune's every call is held to its census window.
    if (scope.kind == registry::CensusKind::kComune) return office.CheckCensusOpen(scope.owner);
    return absl::OkStatus();
  }
  const bool comune = scope.kind == registry::CensusKind::kComune;
  return absl::PermissionDeniedError(
      std::string(comune ? "istat: a comune" : "province_sigla: a prefettura") +
      " may act only on its own census ('" + caller.name + "' may not act for " + scope.owner +
      ")");
}

// INVALID_ARGUMENT with the violations as a serialized BadRequest detail: as many as fit in
// kDetailBytes, then one saying how many more. (The detail travels base64-encoded in a trailer
// beside the message, and a client refuses trailers over 8 KB by default: a file wrong on every
// line would otherwise reach the caller as "metadata size exceeds limit", not as its refusal.)
constexpr size_t kDetailBytes = 3000;
grpc::Status Refused(const absl::Status& status, const registry::Refusal& refusal) {
  v1::BadRequest details;
  for (const registry::Violation& e : refusal.violations) {
    if (details.ByteSizeLong() >= kDetailBytes) {
      const size_t unlisted = refusal.violations.size() - details.violations_size();
      details.add_violations()->set_rule(
          absl::StrCat("and ", unlisted, " more violations, not listed"));
      break;
    }
    v1::FieldViolation* v = details.add_violations();
    v->set_field(e.field);
    v->set_rule(e.rule);
    v->set_row(static_cast<uint32_t>(e.line));
  }
  return ToGrpcStatus(status, details.SerializeAsString());
}

// A census user, or a Ministry operator, read from the wire. A birth date that is no date is
// added to `errors` on "<path>.birth_date" (every one, not only the first).
registry::CensusUser UserFromProto(const v1::CensusUser& u, const std::string& path,
                                   std::vector<registry::Violation>& errors) {
  registry::CensusUser user{.name = u.name(),
                            .surname = u.surname(),
                            .codice_fiscale = u.codice_fiscale(),
                            .birth_place = u.birth_place(),
                            .birth_province = u.birth_province(),
                            .sex = u.sex(),
                            .email = u.email(),
                            .profiles = {u.profiles().begin(), u.profiles().end()}};
  if (!u.birth_date().empty()) {
    absl::StatusOr<std::chrono::year_month_day> date = ParseIsoDate(u.birth_date());
    if (date.ok()) {
      user.birth_date = *date;
    } else {
      errors.push_back({path + ".birth_date", std::string(date.status().message())});
    }
  }
  return user;
}

absl::Status UsersFromProto(const google::protobuf::RepeatedPtrField<v1::CensusUser>& in,
                            std::vector<registry::CensusUser>& out) {
  std::vector<registry::Violation> errors;
  for (int i = 0; i < in.size(); ++i) {
    out.push_back(UserFromProto(in[i], absl::StrCat("users[", i, "]"), errors));
  }
  return registry::ToStatus(errors);
}

void UserToProto(const registry::CensusUser& u, v1::CensusUser* p) {
  p->set_name(u.name);
  p->set_surname(u.surname);
  p->set_codice_fiscale(u.codice_fiscale);
  if (u.birth_date.ok()) p->set_birth_date(IsoDate(u.birth_date));
  p->set_birth_place(u.birth_place);
  p->set_birth_province(u.birth_province);
  p->set_sex(u.sex);
  p->set_email(u.email);
  for (const std::string& profile : u.profiles) p->add_profiles(profile);
}

// A count from the wire, kept within int (a rule then refuses anything this large).
int Count(uint32_t n) { return static_cast<int>(std::min<uint32_t>(n, 100000)); }

// What both kinds of census have, under the same names in the proto and the domain types:
// contacts, workstations and users.
template <typename Proto, typename Census>
absl::Status SharedFromProto(const Proto& p, Census& c) {
  c.contacts.address = p.address();
  c.contacts.cap = p.cap();
  c.contacts.phone = p.phone();
  c.contacts.fax = p.fax();
  c.contacts.email = p.email();
  c.contacts.pec = p.pec();
  c.workstations = Count(p.workstations());
  return UsersFromProto(p.users(), c.users);
}

template <typename Census, typename Proto>
void SharedToProto(const Census& c, Proto* p) {
  p->set_address(c.contacts.address);
  p->set_cap(c.contacts.cap);
  p->set_phone(c.contacts.phone);
  p->set_fax(c.contacts.fax);
  p->set_email(c.contacts.email);
  p->set_pec(c.contacts.pec);
  p->set_workstations(static_cast<uint32_t>(std::max(c.workstations, 0)));
  for (const registry::CensusUser& u : c.users) UserToProto(u, p->add_users());
}

absl::StatusOr<registry::ComuneCensus> FromProto(const v1::ComuneCensus& p) {
  registry::ComuneCensus c{.istat = p.istat(),
                           .name = p.name(),
                           .mayor_surname = p.mayor_surname(),
                           .mayor_name = p.mayor_name(),
                           .it_supplier = p.it_supplier(),
                           .registry_software = p.registry_software(),
                           .vat_number = p.vat_number()};
  TESSERA_RETURN_IF_ERROR(SharedFromProto(p, c));
  return c;
}

absl::StatusOr<registry::PrefetturaCensus> FromProto(const v1::PrefetturaCensus& p) {
  registry::PrefetturaCensus c{.province_sigla = p.province_sigla(),
                               .province = p.province(),
                               .prefect_surname = p.prefect_surname(),
                               .prefect_name = p.prefect_name()};
  TESSERA_RETURN_IF_ERROR(SharedFromProto(p, c));
  return c;
}

void ToProto(const registry::ComuneCensus& c, v1::ComuneCensus* p) {
  p->set_istat(c.istat);
  p->set_name(c.name);
  p->set_mayor_surname(c.mayor_surname);
  p->set_mayor_name(c.mayor_name);
  p->set_it_supplier(c.it_supplier);
  p->set_registry_software(c.registry_software);
  p->set_vat_number(c.vat_number);
  SharedToProto(c, p);
}

void ToProto(const registry::PrefetturaCensus& c, v1::PrefetturaCensus* p) {
  p->set_province_sigla(c.province_sigla);
  p->set_province(c.province);
  p->set_prefect_surname(c.prefect_surname);
  p->set_prefect_name(c.prefect_name);
  SharedToProto(c, p);
}

void ToProto(const registry::CensusRecord& record, v1::Census* out) {
  out->set_owner(record.owner);
  out->set_submitted(record.submitted);
  out->set_revision(static_cast<uint32_t>(record.revision));
  out->set_saved_at_unix(UnixSeconds(record.saved_at));
  if (record.submitted_at) out->set_submitted_at_unix(UnixSeconds(*record.submitted_at));
  if (const auto* prefettura = std::get_if<registry::PrefetturaCensus>(&record.census)) {
    ToProto(*prefettura, out->mutable_prefettura());
  } else {
    ToProto(std::get<registry::ComuneCensus>(record.census), out->mutable_comune());
  }
}

// The caller and its idempotency key, for a call that changes something.
absl::StatusOr<registry::Request> RequestOf(const grpc::ServerContext& context,
                                            const std::string& request_id) {
  TESSERA_RETURN_IF_ERROR(CheckRequestId(request_id));
  TESSERA_ASSIGN_OR_RETURN(Actor actor, ActorOf(context));
  return registry::Request{.actor = std::move(actor), .request_id = request_id};
}

}  // namespace

grpc::Status RegistryHandlers::LoadReference(grpc::ServerContext* context,
                                             const v1::LoadReferenceRequest* request,
                                             v1::LoadReferenceResponse* response) {
  absl::StatusOr<registry::Request> change = RequestOf(*context, request->request_id());
  if (!change.ok()) return ToGrpcStatus(change.status());
  absl::StatusOr<registry::ReferenceLoadReport> report =
      office_.LoadReference(request->comuni_csv(), request->cadastral_codes_csv(), *change);
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

grpc::Status RegistryHandlers::SetDeclaration(grpc::ServerContext* context,
                                              const v1::SetDeclarationRequest* request,
                                              v1::SetDeclarationResponse*) {
  absl::StatusOr<registry::Request> change = RequestOf(*context, request->request_id());
  if (!change.ok()) return ToGrpcStatus(change.status());
  absl::StatusOr<std::chrono::year_month_day> switch_over = ParseIsoDate(request->switch_over());
  if (!switch_over.ok()) {
    return ToGrpcStatus(
        absl::InvalidArgumentError("switch_over: " + std::string(switch_over.status().message())));
  }
  return ToGrpcStatus(office_.SetDeclaration(
      request->istat(),
      {.declared_workstations =
           static_cast<int>(std::min<uint32_t>(request->declared_workstations(), 100000)),
       .declared_employees =
           static_cast<int>(std::min<uint32_t>(request->declared_employees(), 1000000)),
       .switch_over = *switch_over},
      *change));
}

namespace {

// The scope of a prefettura's call: its province code, from the sigla the census names.
absl::StatusOr<Scope> PrefetturaScope(registry::CensusOffice& office, const std::string& sigla) {
  TESSERA_ASSIGN_OR_RETURN(std::string province, office.ProvinceCode(sigla, "province_sigla"));
  return Scope{registry::CensusKind::kPrefettura, province};
}

using AnyCensus = std::variant<registry::ComuneCensus, registry::PrefetturaCensus>;

// The office a request names by exactly one of istat (a comune) or province_sigla (its
// prefettura).
absl::StatusOr<Scope> ScopeNamed(registry::CensusOffice& office, const std::string& istat,
                                 const std::string& province_sigla) {
  if (istat.empty() == province_sigla.empty()) {
    return absl::InvalidArgumentError("istat or province_sigla: exactly one is required");
  }
  if (!istat.empty()) return Scope{registry::CensusKind::kComune, istat};
  return PrefetturaScope(office, province_sigla);
}

}  // namespace

namespace {

// The census a SaveDraft or SubmitCensus request names.
template <typename Request>
absl::StatusOr<Scope> ScopeOfCensus(registry::CensusOffice& office, const Request& request) {
  if (request.has_census()) return Scope{registry::CensusKind::kComune, request.census().istat()};
  if (request.has_prefettura()) {
    return PrefetturaScope(office, request.prefettura().province_sigla());
  }
  return absl::InvalidArgumentError("census or prefettura: one is required");
}

// The scope of the census calls (the policy table's, run before the handler).
absl::Status CensusCallScope(registry::CensusOffice& office, const access::SessionGate* gate,
                             const Principal& caller, const google::protobuf::Message& request) {
  absl::StatusOr<Scope> scope = absl::InvalidArgumentError("no census named");
  if (const auto* get = dynamic_cast<const v1::GetCensusRequest*>(&request)) {
    scope = ScopeNamed(office, get->istat(), get->province_sigla());
  } else if (const auto* draft = dynamic_cast<const v1::SaveDraftRequest*>(&request)) {
    scope = ScopeOfCensus(office, *draft);
  } else if (const auto* submit = dynamic_cast<const v1::SubmitCensusRequest*>(&request)) {
    scope = ScopeOfCensus(office, *submit);
  }
  if (!scope.ok()) return scope.status();
  return CheckScope(caller, office, gate, *scope);
}

}  // namespace

template <typename Request>
absl::StatusOr<AnyCensus> RegistryHandlers::CensusToActOn(const Request& request) {
  if (request.has_census()) {
    TESSERA_ASSIGN_OR_RETURN(registry::ComuneCensus census, FromProto(request.census()));
    return AnyCensus(std::move(census));
  }
  if (request.has_prefettura()) {
    TESSERA_ASSIGN_OR_RETURN(registry::PrefetturaCensus census, FromProto(request.prefettura()));
    return AnyCensus(std::move(census));
  }
  return absl::InvalidArgumentError("census or prefettura: one is required");
}

grpc::Status RegistryHandlers::SaveDraft(grpc::ServerContext* context,
                                         const v1::SaveDraftRequest* request,
                                         v1::Census* response) {
  absl::StatusOr<AnyCensus> census = CensusToActOn(*request);
  if (!census.ok()) return ToGrpcStatus(census.status());
  absl::StatusOr<registry::Request> change = RequestOf(*context, request->request_id());
  if (!change.ok()) return ToGrpcStatus(change.status());
  registry::Refusal refusal;
  absl::StatusOr<registry::CensusRecord> saved =
      census->index() == 0
          ? office_.SaveDraft(std::move(std::get<0>(*census)), *change, refusal)
          : office_.SavePrefetturaDraft(std::move(std::get<1>(*census)), *change, refusal);
  if (!saved.ok()) return Refused(saved.status(), refusal);
  ToProto(*saved, response);
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::GetCensus(grpc::ServerContext* context,
                                         const v1::GetCensusRequest* request,
                                         v1::Census* response) {
  // The policy's scope has run on the request: a caller beyond it is none.
  if (absl::StatusOr<Principal> caller = CallerOf(*context); !caller.ok()) {
    return ToGrpcStatus(caller.status());
  }
  absl::StatusOr<Scope> scope = ScopeNamed(office_, request->istat(), request->province_sigla());
  if (!scope.ok()) return ToGrpcStatus(scope.status());
  absl::StatusOr<registry::CensusRecord> record = office_.Get(scope->kind, scope->owner);
  if (!record.ok()) return ToGrpcStatus(record.status());
  ToProto(*record, response);
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::ListCensuses(grpc::ServerContext*,
                                            const v1::ListCensusesRequest* request,
                                            v1::ListCensusesResponse* response) {
  registry::CensusFilter filter;
  if (request->kind() == "prefettura") {
    filter.kind = registry::CensusKind::kPrefettura;
  } else if (!request->kind().empty() && request->kind() != "comune") {
    return ToGrpcStatus(absl::InvalidArgumentError("kind: \"comune\" or \"prefettura\""));
  }
  if (request->state() == "draft") {
    filter.submitted = false;
  } else if (request->state() == "submitted") {
    filter.submitted = true;
  } else if (!request->state().empty()) {
    return ToGrpcStatus(absl::InvalidArgumentError("state: \"\", \"draft\" or \"submitted\""));
  }
  filter.page_token = request->page_token();
  // 0: the default (CensusFilter); a size out of range is the office's to refuse.
  if (request->page_size() != 0) {
    filter.page_size = static_cast<int>(std::min<uint32_t>(request->page_size(), 100000));
  }
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
  absl::StatusOr<AnyCensus> census = CensusToActOn(*request);
  if (!census.ok()) return ToGrpcStatus(census.status());
  absl::StatusOr<registry::Request> change = RequestOf(*context, request->request_id());
  if (!change.ok()) return ToGrpcStatus(change.status());
  registry::Refusal refusal;
  absl::StatusOr<registry::SubmitResult> result =
      census->index() == 0 ? office_.SubmitComune(std::get<0>(*census), *change, refusal)
                           : office_.SubmitPrefettura(std::get<1>(*census), *change, refusal);
  if (!result.ok()) return Refused(result.status(), refusal);
  ToProto(result->census, response->mutable_census());
  for (const registry::CardOrder& o : result->card_orders)
    response->add_card_numbers(o.card_number);
  for (const registry::WorkstationOrder& o : result->workstation_orders) {
    response->add_workstation_common_ids(o.CommonId());
  }
  for (const std::string& holder : result->holders_with_a_card_already) {
    response->add_holders_with_a_card_already(holder);
  }
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::ImportCensus(grpc::ServerContext* context,
                                            grpc::ServerReader<v1::ImportCensusChunk>* parts,
                                            v1::ImportCensusResponse* response) {
  std::string csv, request_id;
  v1::ImportCensusChunk part;
  while (parts->Read(&part)) {
    if (request_id.empty()) request_id = part.request_id();
    if (csv.size() + part.csv().size() > max_import_bytes_) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          absl::StrCat("csv: more than ", max_import_bytes_ >> 20,
                                       " MiB; the registry takes census files up to "
                                       "registry.max_import_mb"));
    }
    csv += part.csv();
  }
  absl::StatusOr<registry::Request> change = RequestOf(*context, request_id);
  if (!change.ok()) return ToGrpcStatus(change.status());
  registry::Refusal refusal;
  absl::StatusOr<std::vector<std::string>> saved = office_.Import(csv, *change, refusal);
  if (!saved.ok()) return Refused(saved.status(), refusal);
  for (const std::string& istat : *saved) response->add_saved_istat(istat);
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::IssueAccessCode(grpc::ServerContext* context,
                                               const v1::IssueAccessCodeRequest* request,
                                               v1::IssueAccessCodeResponse* response) {
  absl::StatusOr<registry::Request> change = RequestOf(*context, request->request_id());
  if (!change.ok()) return ToGrpcStatus(change.status());
  absl::StatusOr<Scope> scope = ScopeNamed(office_, request->istat(), request->province_sigla());
  if (!scope.ok()) return ToGrpcStatus(scope.status());
  // Offices are named as their workstations are (registry::OfficeCode).
  absl::StatusOr<registry::CensusOffice::IssuedAccessCode> issued =
      office_.IssueAccessCode(scope->WorkstationPrefix(), *change);
  if (!issued.ok()) return ToGrpcStatus(issued.status());
  response->set_access_code(std::string(issued->code.view()));
  response->set_expires_at_unix(UnixSeconds(issued->expires_at));
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::ClaimOrders(grpc::ServerContext* context,
                                           const v1::ClaimOrdersRequest* request,
                                           v1::ClaimOrdersResponse* response) {
  absl::StatusOr<Principal> caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<registry::CensusOffice::ClaimedOrders> claimed =
      office_.ClaimOrders({.caller = caller->name,
                           .worker = request->worker(),
                           .limit = request->limit(),
                           .lease_seconds = request->lease_seconds(),
                           .province_sigla = request->province_sigla(),
                           .istat = request->istat(),
                           .orders = {request->orders().begin(), request->orders().end()}});
  if (!claimed.ok()) return ToGrpcStatus(claimed.status());
  for (const registry::CardOrder& o : claimed->cards) {
    v1::CardOrder* out = response->add_cards();
    out->set_card_number(o.card_number);
    out->set_codice_fiscale(o.codice_fiscale);
    out->set_surname(o.surname);
    out->set_name(o.name);
    out->set_ordered_by(o.ordered_by);
    out->set_office_name(o.office_name);
    out->set_province_sigla(o.province_sigla);
  }
  for (const registry::WorkstationOrder& o : claimed->workstations) {
    v1::WorkstationOrder* out = response->add_workstations();
    out->set_common_id(o.CommonId());
    out->set_ordered_by(o.ordered_by);
  }
  response->set_open_orders(static_cast<uint32_t>(claimed->open_orders));
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::ReportOrders(grpc::ServerContext* context,
                                            const v1::ReportOrdersRequest* request,
                                            v1::ReportOrdersResponse* response) {
  absl::StatusOr<Principal> caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  registry::CensusOffice::Report report{.caller = caller->name, .worker = request->worker()};
  for (const v1::OrderOutcome& o : request->outcomes()) {
    const bool card = o.order_case() == v1::OrderOutcome::kCardNumber;
    report.outcomes.push_back({.kind = card ? registry::OrderOutcome::Kind::kCard
                                            : registry::OrderOutcome::Kind::kWorkstation,
                               .order = card ? o.card_number() : o.workstation_common_id(),
                               .certificate_serial = o.certificate_serial(),
                               .failure = o.failure()});
  }
  absl::StatusOr<std::vector<absl::StatusOr<bool>>> results = office_.ReportOutcomes(report);
  if (!results.ok()) return ToGrpcStatus(results.status());
  for (const absl::StatusOr<bool>& result : *results) {
    v1::ReportOrdersResponse::Result* out = response->add_results();
    out->set_code(static_cast<int32_t>(result.status().code()));
    out->set_message(std::string(result.status().message()));
    out->set_repeated(result.ok() && *result);
  }
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::AddMinistryOperator(grpc::ServerContext* context,
                                                   const v1::AddMinistryOperatorRequest* request,
                                                   v1::AddMinistryOperatorResponse* response) {
  absl::StatusOr<Actor> actor = ActorOf(*context);
  if (!actor.ok()) return ToGrpcStatus(actor.status());
  std::vector<registry::Violation> bad_date;
  registry::CensusUser person = UserFromProto(request->operator_(), "operator", bad_date);
  if (!bad_date.empty()) return ToGrpcStatus(registry::ToStatus(bad_date));
  registry::Refusal refusal;
  absl::StatusOr<registry::MinistryOperatorStore::Added> added = office_.AddMinistryOperator(
      std::move(person), {request->reason(), request->request_id()}, *actor, refusal);
  if (!added.ok()) return Refused(added.status(), refusal);
  response->set_codice_fiscale(added->codice_fiscale);
  response->set_card_number(added->card_number);
  response->set_new_card(added->new_card);
  response->set_repeated(added->repeated);
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::RemoveMinistryOperator(
    grpc::ServerContext* context, const v1::RemoveMinistryOperatorRequest* request,
    v1::RemoveMinistryOperatorResponse*) {
  absl::StatusOr<Actor> actor = ActorOf(*context);
  if (!actor.ok()) return ToGrpcStatus(actor.status());
  if (absl::Status removed = office_.RemoveMinistryOperator(
          request->codice_fiscale(), {request->reason(), request->request_id()}, *actor);
      !removed.ok()) {
    return ToGrpcStatus(removed);
  }
  // No more Ministry rights: their Ministry sessions end (a retry ends nothing more).
  return ToGrpcStatus(
      login_.EndSessionsOf(request->codice_fiscale(), "ministero", "removed").status());
}

grpc::Status RegistryHandlers::ListMinistryOperators(grpc::ServerContext*,
                                                     const v1::ListMinistryOperatorsRequest*,
                                                     v1::ListMinistryOperatorsResponse* response) {
  absl::StatusOr<std::vector<registry::MinistryOperator>> operators =
      office_.ListMinistryOperators();
  if (!operators.ok()) return ToGrpcStatus(operators.status());
  for (const registry::MinistryOperator& o : *operators) {
    v1::ListMinistryOperatorsResponse::Operator* out = response->add_operators();
    const registry::PersonIdentity& p = o.person;
    UserToProto({.name = p.name,
                 .surname = p.surname,
                 .codice_fiscale = p.codice_fiscale,
                 .birth_date = p.birth_date,
                 .birth_place = p.birth_place,
                 .birth_province = p.birth_province,
                 .sex = p.sex,
                 .email = o.email},
                out->mutable_person());
    out->set_card_number(o.card_number);
    out->set_added_at_unix(UnixSeconds(o.added_at));
  }
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::GetOfficeUser(grpc::ServerContext*,
                                             const v1::GetOfficeUserRequest* request,
                                             v1::OfficeUser* response) {
  absl::StatusOr<registry::OfficeUser> user =
      login_.UserAt(request->office(), request->codice_fiscale());
  if (!user.ok()) return ToGrpcStatus(user.status());
  response->set_codice_fiscale(user->codice_fiscale);
  response->set_surname(user->surname);
  response->set_name(user->name);
  response->set_email(user->email);
  for (const std::string& profile : user->profiles) response->add_profiles(profile);
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::GetOfficeContact(grpc::ServerContext*,
                                                const v1::GetOfficeContactRequest* request,
                                                v1::OfficeContact* response) {
  absl::StatusOr<registry::CensusOffice::Contact> contact = office_.ContactOf(request->office());
  if (!contact.ok()) return ToGrpcStatus(contact.status());
  response->set_name(contact->name);
  response->set_address(contact->address);
  response->set_email(contact->email);
  response->set_pec(contact->pec);
  return grpc::Status::OK;
}

namespace {

void ToProto(const registry::Workstation& workstation, v1::Workstation* out) {
  out->set_common_id(workstation.common_id);
  out->set_state(workstation.state);
  out->set_certificate_serial(workstation.certificate_serial);
  out->set_failure(workstation.failure);
  if (workstation.outcome_at) out->set_outcome_at_unix(UnixSeconds(*workstation.outcome_at));
}

}  // namespace

grpc::Status RegistryHandlers::ListWorkstations(grpc::ServerContext* context,
                                                const v1::ListWorkstationsRequest* request,
                                                v1::ListWorkstationsResponse* response) {
  absl::StatusOr<Principal> caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<std::vector<registry::Workstation>> listed =
      workstations_.List(request->office(), *caller);
  if (!listed.ok()) return ToGrpcStatus(listed.status());
  for (const registry::Workstation& w : *listed) ToProto(w, response->add_workstations());
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::DownloadWorkstations(grpc::ServerContext* context,
                                                    const v1::DownloadWorkstationsRequest* request,
                                                    v1::DownloadWorkstationsResponse* response) {
  absl::StatusOr<Principal> caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<registry::WorkstationCertificates::Downloaded> downloaded = workstations_.Download(
      request->office(), {request->common_ids().begin(), request->common_ids().end()},
      request->zip(), *caller);
  if (!downloaded.ok()) return ToGrpcStatus(downloaded.status());
  for (const auto& [workstation, bundle] : downloaded->bundles) {
    v1::DownloadedWorkstation* out = response->add_workstations();
    ToProto(workstation, out->mutable_workstation());
    // Asked as a zip, the files travel once, in it.
    if (!request->zip()) out->set_pkcs12(bundle.pkcs12.data(), bundle.pkcs12.size());
    out->set_password(std::string(bundle.password.view()));
  }
  for (const auto& [workstation, why] : downloaded->left_out) {
    v1::WorkstationLeftOut* out = response->add_left_out();
    ToProto(workstation, out->mutable_workstation());
    out->set_reason(why);
  }
  response->set_zip(downloaded->zip.data(), downloaded->zip.size());
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::ListOutbox(grpc::ServerContext*,
                                          const v1::ListOutboxRequest* request,
                                          v1::ListOutboxResponse* response) {
  return outbox_service::ListOutbox(outbox_, *request, response);
}

grpc::Status RegistryHandlers::RetryOutbox(grpc::ServerContext*,
                                           const v1::RetryOutboxRequest* request,
                                           v1::RetryOutboxResponse* response) {
  return outbox_service::RetryOutbox(outbox_, *request, response);
}

grpc::Status RegistryHandlers::AcceptCodeMismatch(grpc::ServerContext* context,
                                                  const v1::AcceptCodeMismatchRequest* request,
                                                  v1::AcceptCodeMismatchResponse* response) {
  absl::StatusOr<Actor> actor = ActorOf(*context);
  if (!actor.ok()) return ToGrpcStatus(actor.status());
  absl::StatusOr<bool> repeated =
      office_.AcceptCodeMismatch(request->codice_fiscale(), request->part(),
                                 {request->reason(), request->request_id()}, *actor);
  if (!repeated.ok()) return ToGrpcStatus(repeated.status());
  response->set_repeated(*repeated);
  return grpc::Status::OK;
}

namespace {

// The machine a login call comes over: its certificate's principal (not any session the call
// carries) and SHA-256.
absl::StatusOr<registry::Machine> MachineOf(const grpc::ServerContext& context) {
  TESSERA_ASSIGN_OR_RETURN(Principal caller, CallerOf(context));
  registry::Machine machine;
  TESSERA_ASSIGN_OR_RETURN(machine.sha256, ClientCertificateSha256(context));
  machine.principal.kind = caller.kind;
  machine.principal.name = std::move(caller.name);
  machine.principal.issuer = std::move(caller.issuer);
  machine.principal.serial = std::move(caller.serial);
  return machine;
}

void WriteSession(const registry::CardLogin::Issued& issued, v1::SessionResponse& response) {
  response.set_token(issued.token);
  response.set_session_id(issued.session.id);
  response.set_codice_fiscale(issued.session.codice_fiscale);
  response.set_office(issued.session.office);
  for (const std::string& profile : issued.session.profiles) response.add_profiles(profile);
  response.set_expires_at_unix(UnixSeconds(issued.session.expires_at));
  response.set_renew_until_unix(UnixSeconds(issued.session.renew_until));
}

}  // namespace

grpc::Status RegistryHandlers::BeginLogin(grpc::ServerContext* context,
                                          const v1::BeginLoginRequest* request,
                                          v1::BeginLoginResponse* response) {
  absl::StatusOr<registry::Machine> machine = MachineOf(*context);
  if (!machine.ok()) return ToGrpcStatus(machine.status());
  absl::StatusOr<registry::CardLogin::Challenge> challenge =
      login_.Begin(request->codice_fiscale(), *machine);
  if (!challenge.ok()) return ToGrpcStatus(challenge.status());
  response->set_challenge_id(challenge->id);
  response->set_to_sign(challenge->to_sign);
  response->set_expires_at_unix(UnixSeconds(challenge->expires_at));
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::CompleteLogin(grpc::ServerContext* context,
                                             const v1::CompleteLoginRequest* request,
                                             v1::SessionResponse* response) {
  absl::StatusOr<registry::Machine> machine = MachineOf(*context);
  if (!machine.ok()) return ToGrpcStatus(machine.status());
  absl::StatusOr<registry::CardLogin::Issued> issued = login_.Complete(
      request->challenge_id(),
      std::vector<uint8_t>(request->signature().begin(), request->signature().end()),
      std::vector<uint8_t>(request->card_certificate().begin(), request->card_certificate().end()),
      *machine);
  if (!issued.ok()) return ToGrpcStatus(issued.status());
  WriteSession(*issued, *response);
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::RenewSession(grpc::ServerContext* context,
                                            const v1::RenewSessionRequest*,
                                            v1::SessionResponse* response) {
  absl::StatusOr<Principal> caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<registry::CardLogin::Issued> issued = login_.Renew(*caller);
  if (!issued.ok()) return ToGrpcStatus(issued.status());
  WriteSession(*issued, *response);
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::Logout(grpc::ServerContext* context, const v1::LogoutRequest*,
                                      v1::LogoutResponse*) {
  absl::StatusOr<Principal> caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return ToGrpcStatus(login_.Logout(*caller));
}

grpc::Status RegistryHandlers::AuthorizeDailyPassword(
    grpc::ServerContext* context, const v1::AuthorizeDailyPasswordRequest* request,
    v1::AuthorizeDailyPasswordResponse* response) {
  absl::StatusOr<Principal> caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<registry::Request> change = RequestOf(*context, request->request_id());
  if (!change.ok()) return ToGrpcStatus(change.status());
  absl::StatusOr<registry::DailyAccess::Authorized> authorized =
      daily_.Authorize(request->codice_fiscale(), request->office(), request->until(),
                       request->reason(), *std::move(change), *caller);
  if (!authorized.ok()) return ToGrpcStatus(authorized.status());
  response->set_until(IsoDate(authorized->until));
  response->set_first_password_expires_at_unix(UnixSeconds(authorized->first_password_expires_at));
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::PasswordLogin(grpc::ServerContext* context,
                                             const v1::PasswordLoginRequest* request,
                                             v1::SessionResponse* response) {
  absl::StatusOr<registry::Machine> machine = MachineOf(*context);
  if (!machine.ok()) return ToGrpcStatus(machine.status());
  absl::StatusOr<registry::CardLogin::Issued> issued =
      daily_.Login(request->codice_fiscale(), Secret(request->password()), *machine);
  if (!issued.ok()) return ToGrpcStatus(issued.status());
  WriteSession(*issued, *response);
  return grpc::Status::OK;
}

grpc::Status RegistryHandlers::GetSessionState(grpc::ServerContext*,
                                               const v1::GetSessionStateRequest* request,
                                               v1::GetSessionStateResponse* response) {
  absl::StatusOr<access::SessionState> state = login_.State(request->cursor());
  if (!state.ok()) return ToGrpcStatus(state.status());
  for (const access::SessionKey& key : state->keys) {
    auto* out = response->add_keys();
    out->set_key_id(key.key_id);
    out->set_public_key_pem(key.public_key_pem);
  }
  for (const access::EndedSession& ended : state->ended) {
    auto* out = response->add_ended();
    out->set_session_id(ended.session_id);
    out->set_expires_at_unix(UnixSeconds(ended.expires_at));
  }
  response->set_next_cursor(state->next_cursor);
  response->set_ministry_certificate_acts(state->ministry_certificate_acts);
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

namespace {

// The card of one of the Ministry's operators, as the registry records them.
bool IsMinistryCard(registry::CensusOffice& office, const Principal& caller) {
  return caller.kind == PrincipalKind::kOperator && office.IsMinistryOperator(caller.name);
}

}  // namespace

bool IsMinistry(registry::CensusOffice& office, const access::SessionGate* gate,
                const Principal& caller) {
  return sessions::ActsForMinistry(caller, gate) || IsMinistryCard(office, caller);
}

std::vector<RpcRule> RegistryPolicy(registry::CensusOffice& office,
                                    std::shared_ptr<const access::SessionGate> gate) {
  const std::string s = kService;
  const std::vector<PrincipalKind> service = {PrincipalKind::kService};
  const std::vector<PrincipalKind> comune = {PrincipalKind::kService, PrincipalKind::kWorkstation,
                                             PrincipalKind::kAccessCode, PrincipalKind::kOperator};
  // The Ministry: an operator's session, the CLI's certificate during the bootstrap, or (before
  // card login) a Ministry operator's card certificate.
  const sessions::MinistryRight ministry = sessions::MinistryRightAt(gate);
  const auto operators = [&office, ministry](const Principal& caller) -> absl::StatusOr<bool> {
    if (IsMinistryCard(office, caller)) return true;
    return ministry.certificate(caller);
  };
  const std::vector<PersonGrant>& ministry_operator = ministry.persons;
  const auto census_scope = [&office, gate](const Principal& caller,
                                            const google::protobuf::Message& request) {
    return CensusCallScope(office, gate.get(), caller, request);
  };
  const auto ministry_machine = [](const Principal& caller) {
    return caller.kind == PrincipalKind::kService && caller.name == access::kMinistryMachine;
  };
  const std::string own_census =
      "the Ministry; a comune or prefettura for its own census (workstation certificate, or a "
      "comune's access code); scope checked";
  return {
      {s + "LoadReference",
       {},
       {},
       "the Ministry loads ISTAT's lists",
       operators,
       ministry_operator},
      {s + "SetDeclaration",
       {},
       {},
       "the Ministry records monitoring sheets",
       operators,
       ministry_operator},
      {s + "ImportCensus",
       {},
       {},
       "bulk census files come through the Ministry",
       operators,
       ministry_operator},
      {s + "ListCensuses",
       {},
       {},
       "the Ministry follows every comune's census",
       operators,
       ministry_operator},
      {s + "IssueAccessCode",
       {},
       {},
       "the Ministry lets a comune or prefettura in",
       operators,
       ministry_operator},
      {s + "ClaimOrders", service, {"tessera-perso"}, "personalization takes the orders"},
      {s + "ReportOrders", service, {"tessera-perso"}, "personalization says what it made of them"},
      {s + "AddMinistryOperator",
       {},
       {},
       "the Ministry names its own operators",
       operators,
       ministry_operator},
      {s + "RemoveMinistryOperator",
       {},
       {},
       "the Ministry names its own operators",
       operators,
       ministry_operator},
      {s + "AcceptCodeMismatch",
       {},
       {},
       "the Ministry accepts a code the Agenzia delle Entrate issued with a mismatch",
       operators,
       ministry_operator},
      {s + "ListMinistryOperators",
       {},
       {},
       "the Ministry names its own operators",
       operators,
       ministry_operator},
      {s + "ListOutbox",
       {},
       {},
       "the Ministry follows the registry's outbox (daily passwords)",
       operators,
       ministry_operator},
      {s + "RetryOutbox",
       {},
       {},
       "the Ministry sends mails given up again",
       operators,
       ministry_operator},
      {s + "BeginLogin",
       {PrincipalKind::kWorkstation},
       {},
       "a person logs in at a comune's or prefettura's machine, or at the Ministry's",
       ministry_machine},
      {s + "CompleteLogin",
       {PrincipalKind::kWorkstation},
       {},
       "a person logs in at a comune's or prefettura's machine, or at the Ministry's",
       ministry_machine},
      {s + "RenewSession",
       {PrincipalKind::kWorkstation},
       {},
       "a person renews their own session (the handler requires one)",
       ministry_machine},
      {s + "Logout",
       {PrincipalKind::kWorkstation},
       {},
       "a person ends their own session (the handler requires one)",
       ministry_machine},
      {s + "AuthorizeDailyPassword",
       {},
       {},
       "the security administrator of the person's office (a comune's mayor too; the Ministry "
       "for a prefettura's users; checked against the person's office: registry/daily_access.h)",
       {},
       {{registry::kAmministratoreSicurezza, "comune"},
        {registry::kAmministratoreSicurezza, "prefettura"},
        {registry::kSindacoDelegato, "comune"},
        {access::kMinistryOperatorProfile, "ministero"}}},
      {s + "PasswordLogin",
       {PrincipalKind::kWorkstation},
       {},
       "an operator whose card is being replaced logs in at a workstation of their office"},
      {s + "GetSessionState", service, {}, "every tessera service verifies sessions locally"},
      {s + "GetOfficeUser",
       service,
       {"tessera-dispatch"},
       "the dispatch service checks collectors and holders (names, personal mailbox, profiles)"},
      {s + "GetOfficeContact",
       service,
       {"tessera-dispatch"},
       "the dispatch service names an office on receipts and writes to its PEC"},
      {s + "ListWorkstations",
       {},
       {},
       "an office's Amministratore Postazioni, for its own office only "
       "(registry/workstation_certificates.h)",
       {},
       {{registry::kAmministratorePostazioni, "comune"},
        {registry::kAmministratorePostazioniPrefettura, "prefettura"}}},
      {s + "DownloadWorkstations",
       {},
       {},
       "bundles hold keys and passwords: an office's Amministratore Postazioni, for its own "
       "office only, every download audited (registry/workstation_certificates.h)",
       {},
       {{registry::kAmministratorePostazioni, "comune"},
        {registry::kAmministratorePostazioniPrefettura, "prefettura"}}},
      {s + "SaveDraft", comune, {}, own_census, {}, {}, census_scope},
      {s + "GetCensus", comune, {}, own_census, {}, {}, census_scope},
      {s + "SubmitCensus", comune, {}, own_census, {}, {}, census_scope},
  };
}

}  // namespace tessera::registry_service
