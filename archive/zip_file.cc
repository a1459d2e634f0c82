#include "archive/zip_file.h"

#include <zip.h>

#include <cstdio>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"

namespace tessera::archive {
namespace {

struct SourceFree {
  void operator()(zip_source_t* source) const { zip_source_free(source); }
};
using Source = std::unique_ptr<zip_source_t, SourceFree>;

std::string ZipError(const char* what, zip_error_t* error) {
  std::string text = absl::StrCat("zip: ", what, ": ", zip_error_strerror(error));
  zip_error_fini(error);
  return text;
}

// The bytes a closed in-memory archive left in its source.
absl::StatusOr<std::vector<uint8_t>> ReadBack(zip_source_t* source) {
  if (zip_source_open(source) < 0) {
    return absl::InternalError(ZipError("reopen", zip_source_error(source)));
  }
  std::vector<uint8_t> bytes;
  zip_source_seek(source, 0, SEEK_END);
  const zip_int64_t size = zip_source_tell(source);
  zip_source_seek(source, 0, SEEK_SET);
  if (size < 0) {
    zip_source_close(source);
    return absl::InternalError("zip: archive size unknown");
  }
  bytes.resize(static_cast<size_t>(size));
  const zip_int64_t read = zip_source_read(source, bytes.data(), bytes.size());
  zip_source_close(source);
  if (read != size) return absl::InternalError("zip: archive read back short");
  return bytes;
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> ZipFile(const std::vector<ZipEntry>& entries,
                                             std::chrono::system_clock::time_point modified) {
  std::set<std::string> names;
  for (const ZipEntry& entry : entries) {
    if (entry.name.empty() || !names.insert(entry.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("zip: entry name '", entry.name, "' empty or repeated"));
    }
  }
  zip_error_t error;
  zip_error_init(&error);
  Source buffer(zip_source_buffer_create(nullptr, 0, 0, &error));
  if (!buffer) return absl::InternalError(ZipError("buffer", &error));
  zip_t* archive = zip_open_from_source(buffer.get(), ZIP_TRUNCATE, &error);
  if (archive == nullptr) return absl::InternalError(ZipError("open", &error));
  // zip_close and zip_discard free the source they were opened on; keep it for reading back.
  zip_source_keep(buffer.get());
  const time_t stamp = std::chrono::system_clock::to_time_t(modified);
  for (const ZipEntry& entry : entries) {
    zip_source_t* data = zip_source_buffer(archive, entry.data.data(), entry.data.size(), 0);
    const zip_int64_t index =
        data == nullptr ? -1 : zip_file_add(archive, entry.name.c_str(), data, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      if (data != nullptr) zip_source_free(data);
      std::string why = absl::StrCat("zip: add ", entry.name, ": ", zip_strerror(archive));
      zip_discard(archive);
      return absl::InternalError(why);
    }
    zip_file_set_mtime(archive, static_cast<zip_uint64_t>(index), stamp, 0);
  }
  if (zip_close(archive) < 0) {
    std::string why = absl::StrCat("zip: close: ", zip_strerror(archive));
    zip_discard(archive);
    return absl::InternalError(why);
  }
  return ReadBack(buffer.get());
}

}  // namespace tessera::archive
