// tessera registry … and tessera census …: reference data, declarations and censuses on
// tessera-registry.

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "cli/common.h"
#include "google/protobuf/util/json_util.h"
#include "platform/files.h"
#include "platform/grpc_status.h"
#include "platform/status_macros.h"
#include "proto/common.pb.h"
#include "proto/registry.grpc.pb.h"
#include "services/registry/census_upload.h"

namespace tessera::cli {
namespace {

// A refusal with its violations: a table people can work through (line, column, rule), or
// JSON; the status keeps the service's code.
absl::Status Refusal(const Args& args, const grpc::Status& status) {
  v1::BadRequest details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details()) ||
      details.violations().empty()) {
    return FromGrpc(status);
  }
  nlohmann::json list = nlohmann::json::array();
  std::string table = absl::StrFormat("%-6s %-22s %s\n", "line", "field", "rule");
  for (const v1::FieldViolation& v : details.violations()) {
    list.push_back({{"line", v.row()}, {"field", v.field()}, {"rule", v.rule()}});
    table += absl::StrFormat("%-6s %-22s %s\n", v.row() > 0 ? std::to_string(v.row()) : "-",
                             v.field(), v.rule());
  }
  if (args.json) {
    std::puts(nlohmann::json{{"violations", list}}.dump().c_str());
  } else {
    std::fputs(table.c_str(), stdout);
  }
  return absl::Status(FromGrpcStatus(status).code(),
                      absl::StrCat(details.violations_size(), " problem(s); nothing was kept"));
}

// The census in protobuf's JSON mapping, field names as in registry.proto: what census save
// reads back.
absl::StatusOr<nlohmann::json> ToJson(const v1::Census& c) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(c, &json, options).ok()) {
    return absl::InternalError("census: cannot write as JSON");
  }
  return nlohmann::json::parse(json);
}

absl::Status RegistryLoadReference(const Args& args) {
  const std::string dir = args.Get("dir");
  v1::LoadReferenceRequest request;
  TESSERA_ASSIGN_OR_RETURN(*request.mutable_comuni_csv(), ReadFile(dir + "/comuni.csv"));
  TESSERA_ASSIGN_OR_RETURN(*request.mutable_cadastral_codes_csv(),
                           ReadFile(dir + "/codici_catastali.csv"));
  // Loading is idempotent by itself, and a second load should report what it changed (nothing),
  // not the first load's counts: without --request-id each run is its own request.
  request.set_request_id(NewRequestIdOf(args, "load-reference"));
  TESSERA_ASSIGN_OR_RETURN(auto registry, StubAt<v1::Registry>(args));
  grpc::ClientContext context;
  v1::LoadReferenceResponse r;
  TESSERA_RETURN_IF_ERROR(FromGrpc(registry->LoadReference(&context, request, &r)));
  Print(
      args,
      {{"comuni_added", r.comuni_added()},
       {"comuni_changed", r.comuni_changed()},
       {"comuni_ceased", r.comuni_ceased()},
       {"provinces_added", r.provinces_added()},
       {"provinces_changed", r.provinces_changed()},
       {"provinces_ceased", r.provinces_ceased()},
       {"cadastral_codes", r.cadastral_codes()}},
      absl::StrFormat("comuni: %d added, %d changed, %d ceased; provinces: %d added, %d "
                      "changed, %d ceased; %d cadastral codes",
                      r.comuni_added(), r.comuni_changed(), r.comuni_ceased(), r.provinces_added(),
                      r.provinces_changed(), r.provinces_ceased(), r.cadastral_codes()));
  return absl::OkStatus();
}

absl::Status RegistryDeclare(const Args& args) {
  v1::SetDeclarationRequest request;
  request.set_istat(args.Get("istat"));
  request.set_switch_over(args.Get("switch-over"));
  TESSERA_ASSIGN_OR_RETURN(int w,
                           ParseDigits(args.Get("workstations"), 5, "--workstations: a number"));
  TESSERA_ASSIGN_OR_RETURN(int e, ParseDigits(args.Get("employees"), 6, "--employees: a number"));
  request.set_declared_workstations(w);
  request.set_declared_employees(e);
  request.set_request_id(RequestIdOf(args, "declare", request.SerializeAsString()));
  TESSERA_ASSIGN_OR_RETURN(auto registry, StubAt<v1::Registry>(args));
  grpc::ClientContext context;
  v1::SetDeclarationResponse response;
  TESSERA_RETURN_IF_ERROR(FromGrpc(registry->SetDeclaration(&context, request, &response)));
  Print(args, {{"istat", request.istat()}, {"declared", true}},
        "declaration of " + request.istat() + " recorded");
  return absl::OkStatus();
}

absl::Status CensusImport(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(std::string csv, ReadFile(args.Get("FILE")));
  TESSERA_ASSIGN_OR_RETURN(auto registry, StubAt<v1::Registry>(args));
  grpc::ClientContext context;
  v1::ImportCensusResponse response;
  grpc::Status status = registry_service::UploadCensusFile(
      *registry, context, csv, RequestIdOf(args, "import", csv), &response);
  if (!status.ok()) return Refusal(args, status);
  Print(args,
        {{"saved_istat",
          std::vector<std::string>(response.saved_istat().begin(), response.saved_istat().end())}},
        absl::StrCat(response.saved_istat_size(), " comuni saved as drafts"));
  return absl::OkStatus();
}

// --istat N (a comune) or --province SIGLA (a prefettura; AddOffice: exactly one), and the
// stored census.
absl::StatusOr<v1::Census> FetchCensus(const Args& args, v1::Registry::Stub& registry) {
  v1::GetCensusRequest request;
  request.set_istat(args.Get("istat"));
  request.set_province_sigla(args.Get("province"));
  grpc::ClientContext context;
  v1::Census census;
  TESSERA_RETURN_IF_ERROR(FromGrpc(registry.GetCensus(&context, request, &census)));
  return census;
}

absl::Status CensusShow(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(auto registry, StubAt<v1::Registry>(args));
  TESSERA_ASSIGN_OR_RETURN(v1::Census census, FetchCensus(args, *registry));
  const bool comune = census.has_comune();
  const auto& users = comune ? census.comune().users() : census.prefettura().users();
  std::string text = absl::StrFormat(
      "%s %s  %s, revision %d, %d workstations\n", census.owner(),
      comune ? census.comune().name() : "Prefettura di " + census.prefettura().province(),
      census.submitted() ? "SUBMITTED" : "draft", census.revision(),
      comune ? census.comune().workstations() : census.prefettura().workstations());
  for (const v1::CensusUser& u : users) {
    std::string profiles;
    for (const std::string& p : u.profiles()) profiles += (profiles.empty() ? "" : ",") + p;
    text += absl::StrFormat("  %-16s %-14s %-14s %s\n", u.codice_fiscale(), u.surname(), u.name(),
                            profiles);
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  TESSERA_ASSIGN_OR_RETURN(nlohmann::json json, ToJson(census));
  Print(args, json, text);
  return absl::OkStatus();
}

absl::Status CensusSave(const Args& args) {
  const std::string path = args.Get("FILE.json");
  TESSERA_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  // Either what census show --json prints (the stored census, whose "comune" or "prefettura"
  // is saved) or a bare comune or prefettura census.
  nlohmann::json document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    return absl::InvalidArgumentError(path + ": not a JSON object");
  }
  v1::SaveDraftRequest request;
  google::protobuf::Message* body = request.mutable_census();
  if (document.contains("comune")) {
    document = document["comune"];
  } else if (document.contains("prefettura")) {
    document = document["prefettura"];
    body = request.mutable_prefettura();
  } else if (document.contains("province_sigla")) {
    body = request.mutable_prefettura();
  }
  if (auto parsed = google::protobuf::util::JsonStringToMessage(document.dump(), body);
      !parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a census: ", std::string(parsed.message())));
  }
  request.set_request_id(RequestIdOf(args, "save", request.SerializeAsString()));
  TESSERA_ASSIGN_OR_RETURN(auto registry, StubAt<v1::Registry>(args));
  grpc::ClientContext context;
  v1::Census saved;
  if (grpc::Status status = registry->SaveDraft(&context, request, &saved); !status.ok()) {
    return Refusal(args, status);
  }
  const int users =
      saved.has_comune() ? saved.comune().users_size() : saved.prefettura().users_size();
  Print(args, {{"owner", saved.owner()}, {"revision", saved.revision()}},
        absl::StrFormat("draft of %s saved: revision %d, %d users", saved.owner(), saved.revision(),
                        users));
  return absl::OkStatus();
}

absl::Status RegistryAccessCode(const Args& args) {
  v1::IssueAccessCodeRequest request;
  request.set_istat(args.Get("istat"));
  request.set_province_sigla(args.Get("province"));
  // A code is shown once: running the command again asks for a new one, so without
  // --request-id each run is its own request.
  request.set_request_id(NewRequestIdOf(args, "access-code"));
  const std::string office =
      request.istat().empty() ? "the prefettura of " + request.province_sigla() : request.istat();
  TESSERA_ASSIGN_OR_RETURN(auto registry, StubAt<v1::Registry>(args));
  grpc::ClientContext context;
  v1::IssueAccessCodeResponse response;
  TESSERA_RETURN_IF_ERROR(FromGrpc(registry->IssueAccessCode(&context, request, &response)));
  const std::string expires = absl::FormatTime(
      "%Y-%m-%d %H:%M UTC", absl::FromUnixSeconds(response.expires_at_unix()), absl::UTCTimeZone());
  Print(args,
        {{"istat", request.istat()},
         {"province", request.province_sigla()},
         {"access_code", response.access_code()},
         {"expires_at_unix", response.expires_at_unix()}},
        absl::StrCat("census access code of ", office, " (valid until ", expires,
                     "; any earlier code is revoked):\n  ", response.access_code(),
                     "\nshown once: give it to the office over its PEC, never in clear mail"));
  return absl::OkStatus();
}

absl::Status CensusList(const Args& args) {
  v1::ListCensusesRequest request;
  request.set_state(args.Get("state"));
  request.set_kind(args.Get("kind"));
  request.set_page_token(args.Get("page-token"));
  TESSERA_ASSIGN_OR_RETURN(int size,
                           ParseDigits(args.Get("page-size"), 4, "--page-size: 1 to 1000"));
  request.set_page_size(size);
  TESSERA_ASSIGN_OR_RETURN(auto registry, StubAt<v1::Registry>(args));
  grpc::ClientContext context;
  v1::ListCensusesResponse response;
  TESSERA_RETURN_IF_ERROR(FromGrpc(registry->ListCensuses(&context, request, &response)));
  nlohmann::json list = nlohmann::json::array();
  std::string text;
  for (const v1::CensusSummary& c : response.censuses()) {
    list.push_back({{"istat", c.istat()},
                    {"name", c.name()},
                    {"submitted", c.submitted()},
                    {"revision", c.revision()},
                    {"users", c.users()}});
    text += absl::StrFormat("%s  %-32s %-9s rev %-3d %d users\n", c.istat(), c.name(),
                            c.submitted() ? "SUBMITTED" : "draft", c.revision(), c.users());
  }
  if (!response.next_page_token().empty()) {
    text += "more: --page-token " + response.next_page_token() + "\n";
  }
  if (!text.empty()) text.pop_back();
  Print(args, {{"censuses", list}, {"next_page_token", response.next_page_token()}}, text);
  return absl::OkStatus();
}

absl::Status CensusSubmit(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(auto registry, StubAt<v1::Registry>(args));
  TESSERA_ASSIGN_OR_RETURN(v1::Census draft, FetchCensus(args, *registry));
  const std::string istat = draft.owner();
  v1::SubmitCensusRequest request;
  if (draft.has_prefettura()) {
    *request.mutable_prefettura() = draft.prefettura();
  } else {
    *request.mutable_census() = draft.comune();
  }
  request.set_request_id(RequestIdOf(args, "submit", request.SerializeAsString()));
  grpc::ClientContext context;
  v1::SubmitCensusResponse response;
  grpc::Status status = registry->SubmitCensus(&context, request, &response);
  if (!status.ok()) return Refusal(args, status);
  std::vector<std::string> cards(response.card_numbers().begin(), response.card_numbers().end());
  std::vector<std::string> stations(response.workstation_common_ids().begin(),
                                    response.workstation_common_ids().end());
  std::vector<std::string> carded(response.holders_with_a_card_already().begin(),
                                  response.holders_with_a_card_already().end());
  std::string text =
      absl::StrCat("census of ", istat, " submitted: ", cards.size(), " card order(s), ",
                   stations.size(), " workstation order(s), state LAVORAZIONE");
  for (const std::string& c : cards) absl::StrAppend(&text, "\n  card ", c);
  for (const std::string& w : stations) absl::StrAppend(&text, "\n  workstation ", w);
  for (const std::string& h : carded) {
    absl::StrAppend(&text, "\n  no new card for ", h,
                    ": already holds a live card (ordered by another census or the Ministry)");
  }
  Print(args,
        {{"istat", istat},
         {"card_numbers", cards},
         {"workstations", stations},
         {"holders_with_a_card_already", carded}},
        text);
  return absl::OkStatus();
}

absl::Status RegistryMinistryOperatorAdd(const Args& args) {
  v1::AddMinistryOperatorRequest request;
  v1::CensusUser& person = *request.mutable_operator_();
  person.set_codice_fiscale(args.Get("cf"));
  person.set_surname(args.Get("surname"));
  person.set_name(args.Get("name"));
  person.set_birth_date(args.Get("birth-date"));
  person.set_birth_place(args.Get("birth-place"));
  person.set_birth_province(args.Get("birth-province"));
  person.set_sex(args.Get("sex"));
  person.set_email(args.Get("email"));
  request.set_reason(args.Get("reason"));
  // Without --request-id, the same command run twice is the same request (a safe retry).
  request.set_request_id(args.Or("request-id", "cli-ministry-add-" + person.codice_fiscale()));
  TESSERA_ASSIGN_OR_RETURN(auto registry, StubAt<v1::Registry>(args));
  grpc::ClientContext context;
  v1::AddMinistryOperatorResponse response;
  grpc::Status status = registry->AddMinistryOperator(&context, request, &response);
  if (!status.ok()) return Refusal(args, status);
  Print(args,
        {{"codice_fiscale", response.codice_fiscale()},
         {"card_number", response.card_number()},
         {"new_card", response.new_card()},
         {"repeated", response.repeated()}},
        absl::StrCat(response.codice_fiscale(), " is a Ministry operator",
                     response.repeated() ? " (already recorded by this request)" : "",
                     response.new_card() ? "; card ordered: " : "; their Ministry card: ",
                     response.card_number()));
  return absl::OkStatus();
}

absl::Status RegistryMinistryOperatorRemove(const Args& args) {
  v1::RemoveMinistryOperatorRequest request;
  request.set_codice_fiscale(args.Get("cf"));
  request.set_reason(args.Get("reason"));
  request.set_request_id(args.Or("request-id", "cli-ministry-remove-" + request.codice_fiscale()));
  TESSERA_ASSIGN_OR_RETURN(auto registry, StubAt<v1::Registry>(args));
  grpc::ClientContext context;
  v1::RemoveMinistryOperatorResponse response;
  TESSERA_RETURN_IF_ERROR(FromGrpc(registry->RemoveMinistryOperator(&context, request, &response)));
  Print(args, {{"codice_fiscale", request.codice_fiscale()}, {"removed", true}},
        absl::StrCat(request.codice_fiscale(),
                     " is no Ministry operator any more (their card carries no Ministry right; "
                     "the security console ends it)"));
  return absl::OkStatus();
}

absl::Status RegistryMinistryOperatorList(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(auto registry, StubAt<v1::Registry>(args));
  grpc::ClientContext context;
  v1::ListMinistryOperatorsResponse response;
  TESSERA_RETURN_IF_ERROR(FromGrpc(
      registry->ListMinistryOperators(&context, v1::ListMinistryOperatorsRequest(), &response)));
  nlohmann::json list = nlohmann::json::array();
  std::string text = absl::StrFormat("%-16s  %-30s  %-16s  %s", "codice fiscale", "name", "card",
                                     "personal mailbox");
  for (const auto& o : response.operators()) {
    const v1::CensusUser& p = o.person();
    list.push_back({{"codice_fiscale", p.codice_fiscale()},
                    {"surname", p.surname()},
                    {"name", p.name()},
                    {"email", p.email()},
                    {"card_number", o.card_number()},
                    {"added_at_unix", o.added_at_unix()}});
    absl::StrAppend(&text,
                    absl::StrFormat("\n%-16s  %-30s  %-16s  %s", p.codice_fiscale(),
                                    p.surname() + " " + p.name(),
                                    o.card_number().empty() ? "-" : o.card_number(), p.email()));
  }
  Print(args, {{"operators", list}}, text);
  return absl::OkStatus();
}

absl::Status RegistryAcceptMismatch(const Args& args) {
  v1::AcceptCodeMismatchRequest request;
  request.set_codice_fiscale(args.Get("cf"));
  request.set_part(args.Get("part"));
  request.set_reason(args.Get("reason"));
  request.set_request_id(args.Or(
      "request-id", "cli-accept-mismatch-" + request.codice_fiscale() + "-" + request.part()));
  TESSERA_ASSIGN_OR_RETURN(auto registry, StubAt<v1::Registry>(args));
  grpc::ClientContext context;
  v1::AcceptCodeMismatchResponse response;
  TESSERA_RETURN_IF_ERROR(FromGrpc(registry->AcceptCodeMismatch(&context, request, &response)));
  Print(args,
        {{"codice_fiscale", request.codice_fiscale()},
         {"part", request.part()},
         {"repeated", response.repeated()}},
        absl::StrCat("accepted: ", request.codice_fiscale(), " does not match its holder's ",
                     request.part(), response.repeated() ? " (recorded before)" : ""));
  return absl::OkStatus();
}

// --istat N | --province SIGLA: a comune or a prefettura, exactly one.
void AddOffice(CLI::App& command) {
  CLI::Option_group* office = command.add_option_group("comune or prefettura");
  office->add_option("--istat", "a comune, by ISTAT code")->type_name("N");
  office->add_option("--province", "a prefettura, by its province's sigla")->type_name("SIGLA");
  office->require_option(1);
}

void AddRegistryGroup(CLI::App& app) {
  CLI::App* registry =
      AddGroup(app, "registry", "reference data, declarations, access codes, Ministry operators",
               ConnectsTo("tessera-registry"));

  CLI::App* load = AddCommand(*registry, "load-reference",
                              "load or refresh the comuni, provinces and cadastral codes "
                              "(idempotent)",
                              RegistryLoadReference);
  load->add_option("--dir", "comuni.csv and codici_catastali.csv")
      ->type_name("DIR")
      ->default_str("deploy/reference");
  load->add_option("--request-id",
                   "the request's id; without it each run is a new load (loading is idempotent "
                   "and reports what it changed)")
      ->type_name("ID");

  CLI::App* declare = AddCommand(
      *registry, "declare", "a comune's monitoring sheet: the limits its census is checked against",
      RegistryDeclare);
  declare->add_option("--istat", "the comune's ISTAT code")->type_name("N")->required();
  declare->add_option("--workstations", "workstations declared")->type_name("N")->required();
  declare->add_option("--employees", "employees declared")->type_name("N")->required();
  declare->add_option("--switch-over", "the day it moves to ANPR")
      ->type_name("YYYY-MM-DD")
      ->required();
  AddRequestId(*declare);

  CLI::App* access_code =
      AddCommand(*registry, "access-code",
                 "a census access code for a comune or prefettura without a certificate yet",
                 RegistryAccessCode,
                 "It replaces the office's earlier code; shown once, only its digest is kept.");
  AddOffice(*access_code);
  access_code
      ->add_option("--request-id",
                   "the request's id; without it each run is a new request (and a new code)")
      ->type_name("ID");

  CLI::App* ministry = AddGroup(*registry, "ministry-operator", "the Ministry's own operators",
                                registry->get_footer());
  CLI::App* add = AddCommand(
      *ministry, "add", "make a person a Ministry operator and order their card",
      RegistryMinistryOperatorAdd,
      "Recorded with who and why; the card is ordered under the Ministry's number 000000…; only "
      "these cards act for the Ministry, never a card a census ordered.");
  add->add_option("--cf", "their codice fiscale")->type_name("CF")->required();
  add->add_option("--surname", "their surname")->type_name("S")->required();
  add->add_option("--name", "their name")->type_name("N")->required();
  add->add_option("--birth-date", "their birth date")->type_name("YYYY-MM-DD")->required();
  add->add_option("--birth-place", "their birthplace")->type_name("P")->required();
  add->add_option("--birth-province", "its province (EE abroad)")->type_name("SIGLA")->required();
  add->add_option("--sex", "their sex")
      ->type_name("SEX")
      ->required()
      ->check(CLI::IsMember({"M", "F"}));
  add->add_option("--email", "their personal mailbox")->type_name("MAILBOX")->required();
  add->add_option("--reason", "why (recorded)")->type_name("TEXT")->required();
  AddRequestId(*add);

  CLI::App* remove =
      AddCommand(*ministry, "remove", "a Ministry operator no more", RegistryMinistryOperatorRemove,
                 "Their card then carries no Ministry right; the security console "
                 "ends it.");
  remove->add_option("--cf", "their codice fiscale")->type_name("CF")->required();
  remove->add_option("--reason", "why (recorded)")->type_name("TEXT")->required();
  AddRequestId(*remove);

  AddCommand(*ministry, "list", "the Ministry's operators and their cards",
             RegistryMinistryOperatorList);

  CLI::App* mismatch = AddCommand(
      *registry, "accept-mismatch",
      "accept a codice fiscale the Agenzia delle Entrate issued with a mismatch",
      RegistryAcceptMismatch,
      "Censuses naming it are no longer refused for that part (recorded with who and why).");
  mismatch->add_option("--cf", "the codice fiscale")->type_name("CF")->required();
  mismatch->add_option("--part", "what it does not match")
      ->type_name("PART")
      ->required()
      ->check(CLI::IsMember({"surname", "name", "birth_date", "sex", "birthplace"}));
  mismatch->add_option("--reason", "why (recorded)")->type_name("TEXT")->required();
  AddRequestId(*mismatch);
}

void AddCensusGroup(CLI::App& app) {
  CLI::App* census = AddGroup(app, "census", "the censuses of comuni and prefetture",
                              ConnectsTo("tessera-registry"));

  CLI::App* import = AddCommand(
      *census, "import", "import a census spreadsheet (CSV, layout in the README)", CensusImport,
      "Every error as a table of line, column and rule, and nothing kept; else every comune in "
      "it saved as a draft.");
  import->add_option("FILE", "the spreadsheet")->type_name("")->required();
  AddRequestId(*import);

  CLI::App* show = AddCommand(*census, "show", "a comune's census, or a prefettura's", CensusShow,
                              "With --json the census as JSON, which census save reads back.");
  AddOffice(*show);

  CLI::App* save = AddCommand(*census, "save",
                              "save a draft (the JSON of census show --json, edited)", CensusSave);
  save->add_option("FILE.json", "the census, as census show --json wrote it")
      ->type_name("")
      ->required();
  AddRequestId(*save);

  CLI::App* list = AddCommand(*census, "list", "censuses, a page at a time", CensusList);
  list->add_option("--kind", "whose censuses")
      ->type_name("KIND")
      ->check(CLI::IsMember({"comune", "prefettura"}))
      ->default_str("comune");
  list->add_option("--state", "only drafts, or only submitted censuses")
      ->type_name("STATE")
      ->check(CLI::IsMember({"draft", "submitted"}));
  list->add_option("--page-size", "censuses per page, 1 to 1000")
      ->type_name("N")
      ->default_str("100");
  list->add_option("--page-token", "the next page, as the previous one printed")->type_name("T");

  CLI::App* submit = AddCommand(
      *census, "submit", "submit a draft: every rule checked, then card and workstation orders",
      CensusSubmit);
  AddOffice(*submit);
  AddRequestId(*submit);
}

}  // namespace

void AddRegistryCommands(CLI::App& app) {
  AddRegistryGroup(app);
  AddCensusGroup(app);
}

}  // namespace tessera::cli
