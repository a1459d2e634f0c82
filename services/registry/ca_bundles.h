// Workstation bundles fetched from tessera-ca as tessera-registry (GetWorkstationBundle, which
// tessera-ca grants the registry so that it can hand them to an office's ALP).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "registry/workstation_certificates.h"

namespace tessera::registry_service {

// Fetches over `ca`; with no channel (no ca.target configured) every fetch answers
// FAILED_PRECONDITION saying so.
registry::BundleFetch BundlesFromCa(std::shared_ptr<grpc::Channel> ca);

}  // namespace tessera::registry_service
