// Card file format (little endian), one file per card:
//   "TVRCARD1"                       magic and version
//   records: u32 tag, u32 length, value
//     1 serial   2 label (32 bytes)   3 SO PIN   4 user PIN (absent: not set)
//     5 u32 SO wrong tries   6 u32 user wrong tries   7 u8 initialized
//     16 object: attributes, each u64 type, u32 length, value
// A private key object keeps its secret as the attribute kCardSecret (PKCS#8 DER): the file is
// the card's memory. Unknown record tags are skipped, so newer fields can be added.
#include "vreader/card.h"

#include <botan/hex.h>
#include <botan/system_rng.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace tessera::vreader {
namespace {

constexpr char kMagic[] = "TVRCARD1";
constexpr uint32_t kSerial = 1, kLabel = 2, kSoPin = 3, kUserPin = 4, kSoTries = 5, kUserTries = 6,
                   kInitialized = 7, kObject = 16;

void PutInt(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

void PutRecord(std::string& out, uint32_t tag, const void* data, size_t size) {
  PutInt(out, tag, 4);
  PutInt(out, size, 4);
  out.append(static_cast<const char*>(data), size);
}

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ == data_.size(); }
  bool Int(uint64_t& value, int bytes) {
    if (data_.size() - pos_ < static_cast<size_t>(bytes)) return false;
    value = 0;
    for (int i = 0; i < bytes; ++i) {
      value |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    }
    pos_ += bytes;
    return true;
  }
  bool Chunk(std::string_view& chunk) {
    uint64_t size = 0;
    if (!Int(size, 4) || data_.size() - pos_ < size) return false;
    chunk = data_.substr(pos_, size);
    pos_ += size;
    return true;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

bool ParseObject(std::string_view value, Object& object) {
  Reader in(value);
  while (!in.done()) {
    uint64_t type = 0;
    std::string_view bytes;
    if (!in.Int(type, 8) || !in.Chunk(bytes)) return false;
    object.attrs[static_cast<CK_ATTRIBUTE_TYPE>(type)] = ToBytes(bytes);
  }
  return true;
}

bool FsyncPath(const std::filesystem::path& path, int flags) {
  const int fd = open(path.c_str(), flags);
  if (fd < 0) return false;
  const bool ok = fsync(fd) == 0;
  close(fd);
  return ok;
}

}  // namespace

CK_FLAGS Card::TokenFlags() const {
  CK_FLAGS flags = CKF_RNG | CKF_LOGIN_REQUIRED;
  if (initialized) flags |= CKF_TOKEN_INITIALIZED;
  if (user_pin_set) flags |= CKF_USER_PIN_INITIALIZED;
  // PKCS#11: COUNT_LOW after a wrong try, FINAL_TRY when one more locks, LOCKED when locked.
  if (user_tries > 0 && !user_locked()) flags |= CKF_USER_PIN_COUNT_LOW;
  if (user_tries + 1 == kMaxPinTries) flags |= CKF_USER_PIN_FINAL_TRY;
  if (user_locked()) flags |= CKF_USER_PIN_LOCKED;
  if (so_tries > 0 && !so_locked()) flags |= CKF_SO_PIN_COUNT_LOW;
  if (so_tries + 1 == kMaxPinTries) flags |= CKF_SO_PIN_FINAL_TRY;
  if (so_locked()) flags |= CKF_SO_PIN_LOCKED;
  return flags;
}

std::string Card::TrayName() const {
  std::string name = label.substr(0, label.find_last_not_of(' ') + 1);
  if (!initialized || name.empty()) name = "blank";
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  }
  if (name[0] == '.') name[0] = '_';  // dot files are temp files
  return name + "-" + serial;
}

Card NewBlankCard() {
  Card card;
  card.serial = Botan::hex_encode(Botan::system_rng().random_vec(8));
  card.label.assign(32, ' ');
  return card;
}

CK_OBJECT_HANDLE NextObjectHandle() {
  static std::atomic<CK_OBJECT_HANDLE> next{1};
  return next++;
}

bool LoadCard(const std::filesystem::path& file, Card& card, std::string& error) {
  std::ifstream in(file, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    error = "cannot read card file " + file.string();
    return false;
  }
  error = "corrupt card file " + file.string();
  if (data.compare(0, 8, kMagic) != 0) return false;
  card = Card{};
  Reader records(std::string_view(data).substr(8));
  while (!records.done()) {
    uint64_t tag = 0;
    std::string_view value;
    if (!records.Int(tag, 4) || !records.Chunk(value)) return false;
    uint64_t number = 0;
    if (tag == kSoTries || tag == kUserTries || tag == kInitialized) {
      if (!Reader(value).Int(number, value.size() == 1 ? 1 : 4)) return false;
    }
    switch (tag) {
      case kSerial:
        card.serial = std::string(value);
        break;
      case kLabel:
        card.label = std::string(value);
        break;
      case kSoPin:
        card.so_pin = ToBytes(value);
        break;
      case kUserPin:
        card.user_pin = ToBytes(value);
        card.user_pin_set = true;
        break;
      case kSoTries:
        card.so_tries = static_cast<unsigned>(number);
        break;
      case kUserTries:
        card.user_tries = static_cast<unsigned>(number);
        break;
      case kInitialized:
        card.initialized = number != 0;
        break;
      case kObject: {
        Object object;
        if (!ParseObject(value, object)) return false;
        card.objects.emplace(NextObjectHandle(), std::move(object));
        break;
      }
      default:
        break;
    }
  }
  if (card.serial.empty() || card.label.size() != 32) return false;
  error.clear();
  return true;
}

bool SaveCard(const std::filesystem::path& file, const Card& card, std::string& error) {
  std::string data(kMagic, 8);
  PutRecord(data, kSerial, card.serial.data(), card.serial.size());
  PutRecord(data, kLabel, card.label.data(), card.label.size());
  PutRecord(data, kSoPin, card.so_pin.data(), card.so_pin.size());
  if (card.user_pin_set) PutRecord(data, kUserPin, card.user_pin.data(), card.user_pin.size());
  const uint32_t so_tries = card.so_tries, user_tries = card.user_tries;
  const uint8_t initialized = card.initialized ? 1 : 0;
  std::string number;
  PutInt(number, so_tries, 4);
  PutRecord(data, kSoTries, number.data(), 4);
  number.clear();
  PutInt(number, user_tries, 4);
  PutRecord(data, kUserTries, number.data(), 4);
  PutRecord(data, kInitialized, &initialized, 1);
  for (const auto& [handle, object] : card.objects) {
    if (!object.is_token()) continue;  // session objects live in memory only
    std::string value;
    for (const auto& [type, bytes] : object.attrs) {
      PutInt(value, type, 8);
      PutInt(value, bytes.size(), 4);
      value.append(bytes.begin(), bytes.end());
    }
    PutRecord(data, kObject, value.data(), value.size());
  }
  return WriteFileAtomically(file, data, error);
}

bool WriteFileAtomically(const std::filesystem::path& file, const std::string& data,
                         std::string& error) {
  // A dot name: tray listings skip it, so a crash between write and rename leaves no card.
  const std::filesystem::path temp = file.parent_path() / ("." + file.filename().string() + ".tmp");
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0;
  for (size_t done = 0; ok && done < data.size();) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && fsync(fd) == 0;
  if (fd >= 0) ok = close(fd) == 0 && ok;
  ok = ok && rename(temp.c_str(), file.c_str()) == 0;
  ok = ok && FsyncPath(file.parent_path(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (!ok) error = "cannot write " + file.string() + ": " + std::strerror(errno);
  return ok;
}

}  // namespace tessera::vreader
