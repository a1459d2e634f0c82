#include "registry/census_office.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "access/office.h"
#include "identity/codice_fiscale.h"
#include "platform/log.h"
#include "platform/status_macros.h"
#include "registry/census_json.h"

namespace tessera::registry {
namespace {

// INVALID_ARGUMENT whose message lists the first violations (up to 20, and about 1,500
// characters: it travels in a gRPC trailer), each as `describe` words it (the full list
// travels in the Refusal, and over gRPC as a BadRequest detail).
template <typename Violation, typename Describe>
absl::Status Refused(const std::vector<Violation>& violations, Describe describe) {
  std::vector<std::string> first;
  size_t length = 0;
  for (size_t i = 0; i < violations.size() && i < 20 && length < 1500; ++i) {
    first.push_back(describe(violations[i]));
    length += first.back().size();
  }
  std::string message = absl::StrJoin(first, "; ");
  if (violations.size() > first.size()) {
    absl::StrAppend(&message, "; and ", violations.size() - first.size(), " more");
  }
  return absl::InvalidArgumentError(message);
}

// A file's violations: "line 3, email_personale: rule" (the import's words).
absl::Status Refused(const std::vector<Violation>& violations) {
  return Refused(violations, FormatInFile);
}

// A census's field errors, which travel in `refusal` too: "users[0].email: rule" — a census
// sent over gRPC has no file and no lines.
absl::Status Refused(const std::vector<Violation>& errors, Refusal& refusal) {
  refusal.violations.insert(refusal.violations.end(), errors.begin(), errors.end());
  return Refused(errors, [](const Violation& e) {
    return e.field.empty() ? e.rule : absl::StrCat(e.field, ": ", e.rule);
  });
}

// The act's log line: who submitted which census and what it ordered (a repeat logs nothing).
void LogSubmitted(CensusKind kind, const SubmitResult& result, const Actor& actor) {
  if (result.repeated) return;
  LogEvent(spdlog::level::info, "census_submitted",
           {{"kind", kind == CensusKind::kComune ? "comune" : "prefettura"},
            {"owner", result.census.owner},
            {"cards", std::to_string(result.card_orders.size())},
            {"workstations", std::to_string(result.workstation_orders.size())}},
           ActorLogFields(actor));
}

// A personalization daemon's name for itself, the same across its restarts.
absl::Status CheckWorker(const std::string& worker) {
  if (worker.empty() || worker.size() > 64 ||
      worker.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") !=
          std::string::npos) {
    return absl::InvalidArgumentError(
        "worker: 1 to 64 letters, digits and . _ : - (e.g. host:pid of the daemon)");
  }
  return absl::OkStatus();
}

// One reported outcome's form, naming the field at fault.
absl::Status CheckOutcome(const OrderOutcome& o) {
  if (o.order.empty()) {
    return absl::InvalidArgumentError("card_number or workstation_common_id: one is required");
  }
  const bool card = o.kind == OrderOutcome::Kind::kCard;
  const size_t digits = card ? 16 : 10;
  if (o.order.size() != digits || o.order.find_first_not_of("0123456789") != std::string::npos) {
    return absl::InvalidArgumentError(card ? "card_number: 16 digits"
                                           : "workstation_common_id: 10 digits");
  }
  if (o.certificate_serial.empty() == o.failure.empty()) {
    return absl::InvalidArgumentError(
        "certificate_serial or failure: exactly one (produced, or failed and why)");
  }
  if (!o.certificate_serial.empty() &&
      (o.certificate_serial.size() > 40 ||
       o.certificate_serial.find_first_not_of("0123456789abcdef") != std::string::npos)) {
    return absl::InvalidArgumentError("certificate_serial: lower-case hex, at most 40 digits");
  }
  if (o.failure.size() > 500) {
    return absl::InvalidArgumentError("failure: at most 500 characters");
  }
  return absl::OkStatus();
}

// A live comune by ISTAT code; INVALID_ARGUMENT naming `istat` if none.
absl::StatusOr<const Comune*> ComuneOf(const ReferenceIndex& index, const std::string& istat) {
  const Comune* comune = index.FindComune(istat);
  if (comune == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("istat: '", istat, "' is no comune in the reference list"));
  }
  return comune;
}

// A province (a comune of it) by sigla; INVALID_ARGUMENT naming `field` if none.
absl::StatusOr<const Comune*> ProvinceOf(const ReferenceIndex& index, const std::string& sigla,
                                         std::string_view field) {
  const Comune* any = index.FindProvince(sigla);
  if (any == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), ": '", sigla, "' is no province in the reference list"));
  }
  return any;
}

}  // namespace

absl::StatusOr<ComuneDeclaration> CensusOffice::DeclarationOf(const std::string& istat) {
  TESSERA_ASSIGN_OR_RETURN(std::optional<ComuneDeclaration> declaration,
                           stores_.declarations.Get(istat));
  if (!declaration.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("comune ", istat, " has no declaration (monitoring sheet) on record"));
  }
  return *declaration;
}

absl::StatusOr<std::shared_ptr<const AcceptedMismatches>> CensusOffice::Accepted() {
  TESSERA_ASSIGN_OR_RETURN(AcceptedMismatches accepted, stores_.mismatches.All());
  return std::make_shared<const AcceptedMismatches>(std::move(accepted));
}

absl::StatusOr<CensusValidator> CensusOffice::Validator(
    std::shared_ptr<const ReferenceIndex> index) {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const AcceptedMismatches> accepted, Accepted());
  return CensusValidator(
      email_rules_,
      [index](const std::string& place,
              const std::string& sigla) -> absl::StatusOr<std::vector<std::string>> {
        return index->BirthplaceCodes(place, sigla);
      },
      std::move(accepted));
}

std::chrono::year_month_day CensusOffice::Today() const { return ItalianDate(clock_.Now()); }

absl::Status CensusOffice::CheckCensusOpen(const std::string& istat) {
  TESSERA_ASSIGN_OR_RETURN(ComuneDeclaration declaration, DeclarationOf(istat));
  if (absl::Status open = CheckCensusWindow(Today(), declaration.switch_over); !open.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("switch_over: ", std::string(open.message())));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const ReferenceIndex>> CensusOffice::Index() {
  std::lock_guard lock(mutex_);
  if (index_ == nullptr) {
    TESSERA_ASSIGN_OR_RETURN(ReferenceData data, stores_.reference.ReadAll());
    if (data.comuni.empty()) {
      return absl::FailedPreconditionError(
          "no reference data loaded yet (tessera registry load-reference)");
    }
    index_ = std::make_shared<const ReferenceIndex>(data);
  }
  return index_;
}

absl::StatusOr<ReferenceLoadReport> CensusOffice::LoadReference(std::string_view comuni_csv,
                                                                std::string_view codes_csv,
                                                                Request request) {
  TESSERA_ASSIGN_OR_RETURN(ReferenceData data, ParseReferenceData(comuni_csv, codes_csv));
  request.fingerprint = RequestFingerprint("LoadReference", {comuni_csv, codes_csv});
  TESSERA_ASSIGN_OR_RETURN(ReferenceLoadReport report,
                           stores_.reference.Load(data, clock_.Now(), request));
  std::lock_guard lock(mutex_);
  index_.reset();  // rebuilt from the database on next use
  return report;
}

absl::Status CensusOffice::SetDeclaration(const std::string& istat,
                                          const ComuneDeclaration& declaration, Request request) {
  TESSERA_ASSIGN_OR_RETURN(auto index, Index());
  TESSERA_RETURN_IF_ERROR(ComuneOf(*index, istat).status());
  if (declaration.declared_workstations < 0 || declaration.declared_employees < 0) {
    return absl::InvalidArgumentError("declared counts: must not be negative");
  }
  if (!declaration.switch_over.ok()) {
    return absl::InvalidArgumentError("switch_over: not a date");
  }
  request.fingerprint = RequestFingerprint(
      "SetDeclaration",
      {istat, std::to_string(declaration.declared_workstations),
       std::to_string(declaration.declared_employees), IsoDate(declaration.switch_over)});
  return stores_.declarations.Set(istat, declaration, clock_.Now(), request);
}

absl::StatusOr<CensusRecord> CensusOffice::SaveDraft(ComuneCensus census, Request request,
                                                     Refusal& refusal) {
  TESSERA_ASSIGN_OR_RETURN(auto index, Index());
  TESSERA_ASSIGN_OR_RETURN(const Comune* comune, ComuneOf(*index, census.istat));
  TESSERA_ASSIGN_OR_RETURN(ComuneDeclaration declaration, DeclarationOf(census.istat));
  TESSERA_ASSIGN_OR_RETURN(CensusValidator validator, Validator(index));
  TESSERA_ASSIGN_OR_RETURN(
      std::vector<Violation> errors,
      validator.ValidateComune(census, *comune, declaration, Today(), Stage::kDraft));
  if (!errors.empty()) return Refused(errors, refusal);
  request.fingerprint = RequestFingerprint("SaveDraft", {ComuneCensusToJson(census)});
  const std::string istat = census.istat;
  return stores_.censuses.SaveDraft(istat, std::move(census), clock_.Now(), request);
}

absl::StatusOr<std::string> CensusOffice::ProvinceCode(const std::string& sigla,
                                                       std::string_view field) {
  TESSERA_ASSIGN_OR_RETURN(auto index, Index());
  TESSERA_ASSIGN_OR_RETURN(const Comune* any, ProvinceOf(*index, sigla, field));
  return any->province_code;
}

absl::StatusOr<CensusRecord> CensusOffice::SavePrefetturaDraft(PrefetturaCensus census,
                                                               Request request, Refusal& refusal) {
  TESSERA_ASSIGN_OR_RETURN(auto index, Index());
  TESSERA_ASSIGN_OR_RETURN(const Comune* province,
                           ProvinceOf(*index, census.province_sigla, "province_sigla"));
  TESSERA_ASSIGN_OR_RETURN(CensusValidator validator, Validator(index));
  TESSERA_ASSIGN_OR_RETURN(
      std::vector<Violation> errors,
      validator.ValidatePrefettura(census, province->province_name, Today(), Stage::kDraft));
  if (!errors.empty()) return Refused(errors, refusal);
  request.fingerprint = RequestFingerprint("SaveDraft", {PrefetturaCensusToJson(census)});
  return stores_.censuses.SaveDraft(province->province_code, std::move(census), clock_.Now(),
                                    request);
}

absl::StatusOr<CensusRecord> CensusOffice::Get(CensusKind kind, const std::string& owner) {
  return stores_.censuses.Get(kind, owner);
}

absl::StatusOr<CensusOffice::Contact> CensusOffice::ContactOf(const std::string& office) {
  absl::StatusOr<access::Office> parsed = access::ParseOffice(office);
  if (!parsed.ok() || parsed->kind == access::Office::Kind::kMinistero) {
    return absl::InvalidArgumentError(absl::StrCat(
        "office: '", office, "' is neither comune:<ISTAT> nor prefettura:<province code>"));
  }
  TESSERA_ASSIGN_OR_RETURN(CensusRecord record, Get(CensusKindOf(*parsed), parsed->census_owner()));
  const auto contact = [](const std::string& name, const Contacts& c, const std::string& town) {
    return Contact{.name = name,
                   .address = absl::StrCat(c.address, ", ", c.cap, " ", town),
                   .email = c.email,
                   .pec = c.pec};
  };
  if (const auto* comune = std::get_if<ComuneCensus>(&record.census)) {
    return contact("Comune di " + comune->name, comune->contacts, comune->name);
  }
  const auto& prefettura = std::get<PrefetturaCensus>(record.census);
  return contact("Prefettura di " + prefettura.province, prefettura.contacts, prefettura.province);
}

absl::StatusOr<CensusOffice::IssuedAccessCode> CensusOffice::IssueAccessCode(
    const std::string& office, Request request) {
  TESSERA_ASSIGN_OR_RETURN(auto index, Index());
  const CensusOwner census = CensusOwnerOf(office);
  if (census.kind == CensusKind::kComune) {
    TESSERA_RETURN_IF_ERROR(ComuneOf(*index, office).status());
    TESSERA_RETURN_IF_ERROR(CheckCensusOpen(office));  // a code before the window is no use
  }
  IssuedAccessCode issued{NewAccessCode(office), clock_.Now() + kAccessCodeValidity};
  TESSERA_ASSIGN_OR_RETURN(AccessCode parsed, ParseAccessCode(issued.code.view()));
  request.fingerprint = RequestFingerprint("IssueAccessCode", {office});
  TESSERA_RETURN_IF_ERROR(
      stores_.access_codes.Put(office, parsed.digest, clock_.Now(), issued.expires_at, request));
  // Never the code: only that one was issued, for whom and by whom.
  LogEvent(spdlog::level::info, "access_code_issued",
           {{"office", office}, {"expires_at", UtcText(issued.expires_at)}},
           ActorLogFields(request.actor));
  access_code_throttle_.Forget(office);  // the old code is revoked
  return issued;
}

absl::StatusOr<std::string> CensusOffice::CheckAccessCode(std::string_view typed) {
  TESSERA_ASSIGN_OR_RETURN(AccessCode code, ParseAccessCode(typed));  // no database yet
  const Clock::TimePoint now = clock_.Now();
  if (access_code_throttle_.KnownGood(code, now)) return code.office;
  TESSERA_RETURN_IF_ERROR(access_code_throttle_.Admit(code, now));
  TESSERA_ASSIGN_OR_RETURN(bool valid, stores_.access_codes.IsValid(code, now));
  if (valid) {
    access_code_throttle_.Succeeded(code, now);
  } else {
    access_code_throttle_.Failed(code, now);
    return absl::UnauthenticatedError(
        absl::StrCat("access code: not the current code of office ", code.office,
                     ", or expired, or its census is submitted; the Ministry can issue a new one"));
  }
  return code.office;
}

absl::StatusOr<SubmitResult> CensusOffice::SubmitComune(ComuneCensus census, Request request,
                                                        Refusal& refusal) {
  TESSERA_ASSIGN_OR_RETURN(auto index, Index());
  TESSERA_ASSIGN_OR_RETURN(const Comune* comune, ComuneOf(*index, census.istat));
  TESSERA_ASSIGN_OR_RETURN(ComuneDeclaration declaration, DeclarationOf(census.istat));
  TESSERA_ASSIGN_OR_RETURN(CensusValidator validator, Validator(index));
  TESSERA_ASSIGN_OR_RETURN(std::vector<Violation> errors,
                           validator.ValidateComune(census, *comune, declaration, Today()));
  if (!errors.empty()) return Refused(errors, refusal);
  request.fingerprint = RequestFingerprint("SubmitCensus", {ComuneCensusToJson(census)});
  absl::StatusOr<SubmitResult> submitted =
      stores_.censuses.Submit(SubmissionOf(census), clock_.Now(), request, &errors);
  if (!errors.empty()) return Refused(errors, refusal);
  TESSERA_ASSIGN_OR_RETURN(SubmitResult result, std::move(submitted));
  access_code_throttle_.Forget(census.istat);  // submission revokes the comune's code
  LogSubmitted(CensusKind::kComune, result, request.actor);
  return result;
}

absl::StatusOr<SubmitResult> CensusOffice::SubmitPrefettura(PrefetturaCensus census,
                                                            Request request, Refusal& refusal) {
  TESSERA_ASSIGN_OR_RETURN(auto index, Index());
  TESSERA_ASSIGN_OR_RETURN(const Comune* province,
                           ProvinceOf(*index, census.province_sigla, "province_sigla"));
  TESSERA_ASSIGN_OR_RETURN(CensusValidator validator, Validator(index));
  TESSERA_ASSIGN_OR_RETURN(std::vector<Violation> errors,
                           validator.ValidatePrefettura(census, province->province_name, Today()));
  if (!errors.empty()) return Refused(errors, refusal);
  request.fingerprint = RequestFingerprint("SubmitCensus", {PrefetturaCensusToJson(census)});
  absl::StatusOr<SubmitResult> submitted = stores_.censuses.Submit(
      SubmissionOf(province->province_code, census), clock_.Now(), request, &errors);
  if (!errors.empty()) return Refused(errors, refusal);
  TESSERA_ASSIGN_OR_RETURN(SubmitResult result, std::move(submitted));
  // Submission revokes its code.
  access_code_throttle_.Forget(OfficeCode(CensusKind::kPrefettura, province->province_code));
  LogSubmitted(CensusKind::kPrefettura, result, request.actor);
  return result;
}

absl::StatusOr<MinistryOperatorStore::Added> CensusOffice::AddMinistryOperator(
    CensusUser person, const ChangeRequest& change, const Actor& actor, Refusal& refusal) {
  if (!person.profiles.empty()) {
    return absl::InvalidArgumentError(
        "operator.profiles: must be empty; a Ministry operator's rights are the Ministry's");
  }
  TESSERA_ASSIGN_OR_RETURN(auto index, Index());
  TESSERA_ASSIGN_OR_RETURN(CensusValidator validator, Validator(index));
  TESSERA_ASSIGN_OR_RETURN(std::vector<Violation> errors,
                           validator.ValidatePerson(person, "operator", Today()));
  if (!errors.empty()) return Refused(errors, refusal);
  absl::StatusOr<MinistryOperatorStore::Added> added =
      stores_.ministry.Add(person, change, clock_.Now(), actor, &errors);
  if (!errors.empty()) return Refused(errors, refusal);
  if (added.ok() && !added->repeated) {
    ForgetMinistryOperators();
    LogEvent(spdlog::level::info, "ministry_operator_added",
             {{"codice_fiscale", added->codice_fiscale},
              {"card_number", added->card_number},
              {"new_card", added->new_card ? "true" : "false"}},
             ActorLogFields(actor));
  }
  return added;
}

absl::Status CensusOffice::RemoveMinistryOperator(const std::string& codice_fiscale,
                                                  const ChangeRequest& change, const Actor& actor) {
  const std::string normalized = identity::NormalizeCodiceFiscale(codice_fiscale);
  TESSERA_ASSIGN_OR_RETURN(bool repeated,
                           stores_.ministry.Remove(normalized, change, clock_.Now(), actor));
  if (!repeated) {
    ForgetMinistryOperators();
    LogEvent(spdlog::level::info, "ministry_operator_removed", {{"codice_fiscale", normalized}},
             ActorLogFields(actor));
  }
  return absl::OkStatus();
}

bool CensusOffice::IsMinistryOperator(const std::string& codice_fiscale) {
  const Clock::TimePoint now = clock_.Now();
  {
    std::lock_guard lock(ministry_mutex_);
    auto known = ministry_answers_.find(codice_fiscale);
    if (known != ministry_answers_.end() && now - known->second.second < kMinistryAnswerLife) {
      return known->second.first;
    }
  }
  absl::StatusOr<bool> is = stores_.ministry.IsOperator(codice_fiscale);
  if (!is.ok()) {  // no answer is no right
    LogEvent(spdlog::level::warn, "ministry_operator_lookup_failed",
             {{"error", std::string(is.status().message())}});
    return false;
  }
  std::lock_guard lock(ministry_mutex_);
  if (ministry_answers_.size() > 10000) ministry_answers_.clear();  // a bound, not a working set
  ministry_answers_[codice_fiscale] = {*is, now};
  return *is;
}

void CensusOffice::ForgetMinistryOperators() {
  std::lock_guard lock(ministry_mutex_);
  ministry_answers_.clear();
}

absl::StatusOr<bool> CensusOffice::AcceptCodeMismatch(const std::string& codice_fiscale,
                                                      const std::string& part,
                                                      const ChangeRequest& change,
                                                      const Actor& actor) {
  const std::string normalized = identity::NormalizeCodiceFiscale(codice_fiscale);
  TESSERA_ASSIGN_OR_RETURN(
      bool repeated, stores_.mismatches.Accept(normalized, part, change, clock_.Now(), actor));
  if (!repeated) {
    LogEvent(spdlog::level::info, "code_mismatch_accepted",
             {{"codice_fiscale", normalized}, {"part", part}}, ActorLogFields(actor));
  }
  return repeated;
}

absl::StatusOr<CensusOffice::ClaimedOrders> CensusOffice::ClaimOrders(const Claim& claim) {
  const std::string& worker = claim.worker;
  TESSERA_RETURN_IF_ERROR(CheckWorker(worker));
  if (claim.limit < 1 || claim.limit > 1000) {
    return absl::InvalidArgumentError("limit: 1 to 1000");
  }
  const std::chrono::seconds lease =
      claim.lease_seconds == 0 ? kDefaultLease : std::chrono::seconds(claim.lease_seconds);
  if (lease < std::chrono::seconds(60) || lease > std::chrono::seconds(86400)) {
    return absl::InvalidArgumentError("lease_seconds: 60 to 86400 (default 900)");
  }
  ClaimScope scope{.orders = claim.orders};
  if (!claim.province_sigla.empty() && !claim.istat.empty()) {
    return absl::InvalidArgumentError("province_sigla or istat: at most one");
  }
  if (!claim.province_sigla.empty()) {
    TESSERA_ASSIGN_OR_RETURN(scope.prefix, ProvinceCode(claim.province_sigla, "province_sigla"));
  } else if (!claim.istat.empty()) {
    TESSERA_ASSIGN_OR_RETURN(auto index, Index());
    TESSERA_RETURN_IF_ERROR(ComuneOf(*index, claim.istat).status());
    scope.prefix = claim.istat;
  }
  if (claim.orders.size() > 1000) return absl::InvalidArgumentError("orders: at most 1000");
  for (size_t i = 0; i < claim.orders.size(); ++i) {
    const std::string& o = claim.orders[i];
    if ((o.size() != 16 && o.size() != 10) || o.find_first_not_of("0123456789") != o.npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("orders[", i, "]: a card number (16 digits) or a common id (10)"));
    }
  }
  const std::string holder = claim.caller + "/" + worker;
  const int limit = static_cast<int>(claim.limit);
  ClaimedOrders claimed;
  TESSERA_ASSIGN_OR_RETURN(
      claimed.cards, stores_.orders.ClaimCardOrders(holder, limit, lease, clock_.Now(), scope));
  TESSERA_ASSIGN_OR_RETURN(claimed.workstations, stores_.orders.ClaimWorkstationOrders(
                                                     holder, limit, lease, clock_.Now(), scope));
  TESSERA_ASSIGN_OR_RETURN(claimed.open_orders, stores_.orders.CountOpenOrders(scope));
  return claimed;
}

absl::StatusOr<std::vector<absl::StatusOr<bool>>> CensusOffice::ReportOutcomes(
    const Report& report) {
  TESSERA_RETURN_IF_ERROR(CheckWorker(report.worker));
  if (report.outcomes.empty() || report.outcomes.size() > 1000) {
    return absl::InvalidArgumentError("outcomes: 1 to 1000");
  }
  const std::string holder = report.caller + "/" + report.worker;
  // The well-formed ones go to the store together; each keeps its place in the answer.
  std::vector<absl::StatusOr<bool>> results(report.outcomes.size(), false);
  std::vector<OrderOutcome> checked;
  std::vector<size_t> places;
  for (size_t i = 0; i < report.outcomes.size(); ++i) {
    if (absl::Status ok = CheckOutcome(report.outcomes[i]); !ok.ok()) {
      results[i] = ok;
    } else {
      checked.push_back(report.outcomes[i]);
      places.push_back(i);
    }
  }
  std::vector<absl::StatusOr<bool>> stored = stores_.orders.Report(holder, checked, clock_.Now());
  for (size_t k = 0; k < stored.size(); ++k) {
    const OrderOutcome& o = checked[k];
    if (stored[k].ok() && !*stored[k]) {
      LogEvent(spdlog::level::info, o.failure.empty() ? "order_produced" : "order_failed",
               {{"order", o.order},
                {"certificate_serial", o.certificate_serial},
                {"failure", o.failure},
                {"worker", holder}});
    }
    results[places[k]] = std::move(stored[k]);
  }
  return results;
}

absl::StatusOr<std::vector<std::string>> CensusOffice::Import(std::string_view file,
                                                              Request request, Refusal& refusal) {
  TESSERA_ASSIGN_OR_RETURN(auto index, Index());
  std::vector<Violation> errors;
  TESSERA_ASSIGN_OR_RETURN(ParsedImport parsed, ParseCensusImport(file, errors));
  std::vector<std::string> istat;
  for (const ComuneCensus& c : parsed.censuses) istat.push_back(c.istat);
  TESSERA_ASSIGN_OR_RETURN(auto declarations, stores_.declarations.GetMany(istat));
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const AcceptedMismatches> accepted, Accepted());
  ValidateImport(parsed, *index, declarations, email_rules_, std::move(accepted), Today(), errors);
  if (!errors.empty()) {
    refusal.violations = std::move(errors);
    return Refused(refusal.violations);
  }
  request.fingerprint = RequestFingerprint("ImportCensus", {file});
  TESSERA_RETURN_IF_ERROR(stores_.censuses.SaveDrafts(parsed.censuses, clock_.Now(), request));
  std::vector<std::string> saved;
  for (const ComuneCensus& c : parsed.censuses) saved.push_back(c.istat);
  return saved;
}

}  // namespace tessera::registry
