#include "platform/grpc_status.h"

#include <gtest/gtest.h>

#include "platform/clock.h"

namespace tessera {
namespace {

TEST(ToGrpcStatus, KeepsCodeAndMessage) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  const std::pair<absl::Status, grpc::StatusCode> cases[] = {
      {absl::InvalidArgumentError("users[3].codice_fiscale: check character is 'U', expected 'X'"),
       grpc::StatusCode::INVALID_ARGUMENT},
      {absl::FailedPreconditionError("lot not complete"), grpc::StatusCode::FAILED_PRECONDITION},
      {absl::AlreadyExistsError("x"), grpc::StatusCode::ALREADY_EXISTS},
      {absl::NotFoundError("x"), grpc::StatusCode::NOT_FOUND},
      {absl::PermissionDeniedError("x"), grpc::StatusCode::PERMISSION_DENIED},
      {absl::UnauthenticatedError("x"), grpc::StatusCode::UNAUTHENTICATED},
      {absl::UnavailableError("x"), grpc::StatusCode::UNAVAILABLE},
      {absl::AbortedError("x"), grpc::StatusCode::ABORTED},
      {absl::InternalError("x"), grpc::StatusCode::INTERNAL},
  };
  for (const auto& [status, code] : cases) {
    grpc::Status mapped = ToGrpcStatus(status);
    EXPECT_EQ(mapped.error_code(), code) << status;
    EXPECT_EQ(mapped.error_message(), std::string(status.message()));
  }
}

TEST(FakeClock, MovesOnlyWhenTold) {
  const auto start = std::chrono::system_clock::time_point(std::chrono::hours(500000));
  FakeClock clock(start);
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(std::chrono::hours(24));
  EXPECT_EQ(clock.Now(), start + std::chrono::hours(24));
  clock.Set(start);
  EXPECT_EQ(clock.Now(), start);
}

}  // namespace
}  // namespace tessera
