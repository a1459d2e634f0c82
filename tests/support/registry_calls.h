// Calls to tessera-registry that several e2e suites make as the Ministry (tessera-cli): the
// reference lists, and the Ministry operator whose card the suites use.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>

#include "platform/clock.h"
#include "proto/registry.grpc.pb.h"
#include "tests/support/temp_dir.h"

namespace tessera::testing {

// Rossi Mario, born in Roma on 10 December 1985: a codice fiscale consistent with its person.
inline constexpr char kMinistryOperatorCf[] = "RSSMRA85T10H501O";

// A request_id no call of this test process used before.
inline std::string NewRequestId() {
  static std::atomic<int> next{0};
  return "test-" + std::to_string(getpid()) + "-" + std::to_string(++next);
}

// Loads deploy/reference (idempotent: a second load adds nothing).
inline grpc::Status LoadReferenceLists(v1::Registry::Stub& ministry) {
  grpc::ClientContext context;
  v1::LoadReferenceRequest request;
  request.set_request_id(NewRequestId());
  request.set_comuni_csv(
      ReadFileOrDie(std::string(TESSERA_SOURCE_DIR) + "/deploy/reference/comuni.csv"));
  request.set_cadastral_codes_csv(
      ReadFileOrDie(std::string(TESSERA_SOURCE_DIR) + "/deploy/reference/codici_catastali.csv"));
  v1::LoadReferenceResponse loaded;
  return ministry.LoadReference(&context, request, &loaded);
}

// Declares every comune of the province of Rieti (the sample census, deploy/sample/
// census_rieti.csv, which is refused as a whole without them): by default 2 workstations and
// 5 employees, switch-over in 30 days. Rieti numbers its comuni 057001..057073 with gaps; the
// gaps are refused and skipped.
inline grpc::Status DeclareRietiComuni(v1::Registry::Stub& ministry, int employees = 5,
                                       int workstations = 2) {
  const auto switch_over = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now() +
                                                                 std::chrono::hours(24 * 30));
  for (int n = 1; n <= 73; ++n) {
    char istat[8];
    std::snprintf(istat, sizeof istat, "057%03d", n);
    grpc::ClientContext c;
    v1::SetDeclarationRequest d;
    d.set_request_id(NewRequestId());
    d.set_istat(istat);
    d.set_declared_workstations(workstations);
    d.set_declared_employees(employees);
    d.set_switch_over(IsoDate(std::chrono::year_month_day(switch_over)));
    v1::SetDeclarationResponse r;
    grpc::Status status = ministry.SetDeclaration(&c, d, &r);
    if (!status.ok() && status.error_code() != grpc::StatusCode::INVALID_ARGUMENT) return status;
  }
  return grpc::Status::OK;
}

// The Ministry submits comune `istat`'s census as its draft stands (a new request id): the
// GetCensus or SubmitCensus failure if either fails.
inline grpc::Status SubmitComuneDraft(v1::Registry::Stub& ministry, const std::string& istat) {
  v1::Census draft;
  grpc::ClientContext get;
  v1::GetCensusRequest which;
  which.set_istat(istat);
  if (grpc::Status status = ministry.GetCensus(&get, which, &draft); !status.ok()) return status;
  v1::SubmitCensusRequest request;
  request.set_request_id(NewRequestId());
  *request.mutable_census() = draft.comune();
  grpc::ClientContext context;
  v1::SubmitCensusResponse response;
  return ministry.SubmitCensus(&context, request, &response);
}

// Rossi Mario as a person on the wire (no profiles): kMinistryOperatorCf and its data.
inline v1::CensusUser RossiMario() {
  v1::CensusUser p;
  p.set_codice_fiscale(kMinistryOperatorCf);
  p.set_surname("Rossi");
  p.set_name("Mario");
  p.set_birth_date("1985-12-10");
  p.set_birth_place("Roma");
  p.set_birth_province("RM");
  p.set_sex("M");
  p.set_email("mario.rossi@interno.it");
  return p;
}

// Makes Rossi Mario (kMinistryOperatorCf) a Ministry operator; the same request_id each time,
// so a second call is a retry.
inline grpc::Status AddMinistryOperator(v1::Registry::Stub& ministry,
                                        v1::AddMinistryOperatorResponse* response = nullptr) {
  grpc::ClientContext context;
  v1::AddMinistryOperatorRequest request;
  *request.mutable_operator_() = RossiMario();
  request.set_reason("operatore del Ministero per i test");
  request.set_request_id("test-add-ministry-operator");
  v1::AddMinistryOperatorResponse unused;
  return ministry.AddMinistryOperator(&context, request, response ? response : &unused);
}

}  // namespace tessera::testing
