// How a client sends a census file to ImportCensus: in parts of at most 1 MiB, in order (the
// registry takes no message larger than a census draft). Used by the CLI and the tests.
#pragma once

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>

#include "proto/registry.grpc.pb.h"

namespace tessera::registry_service {

inline constexpr size_t kCensusUploadPartBytes = 1 << 20;

// `request_id` goes in the first part: a retry of the same file with it saves nothing again.
inline grpc::Status UploadCensusFile(v1::Registry::StubInterface& registry,
                                     grpc::ClientContext& context, std::string_view csv,
                                     const std::string& request_id,
                                     v1::ImportCensusResponse* response) {
  std::unique_ptr<grpc::ClientWriterInterface<v1::ImportCensusChunk>> writer =
      registry.ImportCensus(&context, response);
  for (size_t at = 0; at < csv.size(); at += kCensusUploadPartBytes) {
    v1::ImportCensusChunk part;
    if (at == 0) part.set_request_id(request_id);
    part.set_csv(std::string(csv.substr(at, std::min(kCensusUploadPartBytes, csv.size() - at))));
    if (!writer->Write(part)) break;  // the registry ended the call; Finish says why
  }
  writer->WritesDone();
  return writer->Finish();
}

}  // namespace tessera::registry_service
