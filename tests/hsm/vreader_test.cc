// The virtual card reader module (vreader/) through our PKCS#11 layer, raw PKCS#11 calls and
// pkcs11-tool: blank cards, PINs that lock, keys that sign, cards that survive the process,
// eject into produced/, broken readers and pulled cards.
#include <botan/auto_rng.h>
#include <botan/pkcs10.h>
#include <botan/x509self.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include "hsm/module.h"
#include "hsm/session.h"
#include "hsm/token.h"
#include "hsm/token_key.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

namespace tessera::hsm {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using testing::RunCommand;
using testing::ShellQuote;
using testing::TempDir;
using testing::WriteFile;

constexpr char kModulePath[] = TESSERA_VREADER_PATH;
constexpr char kSoPin[] = "87654321";
constexpr char kUserPin[] = "12345678";
constexpr char kFast[] = "time_scale = 0\n";

std::vector<uint8_t> Id(std::string_view text) { return {text.begin(), text.end()}; }

CK_UTF8CHAR* Pin(const char* pin) { return reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(pin)); }

std::string Field(const unsigned char* text, size_t width) {
  std::string s(reinterpret_cast<const char*>(text), width);
  return s.substr(0, s.find_last_not_of(' ') + 1);
}

std::vector<std::string> Files(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

class VreaderTest : public ::testing::Test {
 protected:
  // Writes the config (state_dir plus `extra`) and loads the module, whose C_Initialize reads
  // it. The module must have been released before: one C_Initialize per module per process.
  void Load(const std::string& extra) {
    WriteFile(conf_, "# vreader_test\nstate_dir = " + state_.string() + "\n" + extra);
    setenv("TESSERA_VREADER_CONF", conf_.c_str(), 1);
    auto module = Module::Load(kModulePath);
    ASSERT_TRUE(module.ok()) << module.status();
    module_ = *module;
  }
  // The last reference: C_Finalize and dlclose, so the next Load starts over.
  void Unload() { module_.reset(); }
  void TearDown() override { Unload(); }

  CK_FUNCTION_LIST* fn() const { return module_->fn(); }

  CK_SESSION_HANDLE Open(CK_SLOT_ID slot) {
    CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
    EXPECT_EQ(
        fn()->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &session),
        CKR_OK);
    return session;
  }
  CK_TOKEN_INFO Info(CK_SLOT_ID slot) {
    CK_TOKEN_INFO info{};
    EXPECT_EQ(fn()->C_GetTokenInfo(slot, &info), CKR_OK);
    return info;
  }
  std::string Serial(CK_SLOT_ID slot) {
    CK_TOKEN_INFO info = Info(slot);
    return Field(info.serialNumber, sizeof info.serialNumber);
  }
  CK_RV InitToken(CK_SLOT_ID slot, const char* so_pin, std::string_view label) {
    unsigned char padded[32];
    std::fill(std::begin(padded), std::end(padded), ' ');
    std::copy(label.begin(), label.end(), padded);
    return fn()->C_InitToken(slot, Pin(so_pin), std::strlen(so_pin), padded);
  }
  // A card personalized the way the daemon does it: the first blank card gets `label`, an SO
  // PIN and a user PIN; returned logged in.
  std::shared_ptr<Token> MakeCard(const std::string& label) {
    auto made = module_->InitToken(label, Secret(kSoPin), Secret(kUserPin));
    EXPECT_TRUE(made.ok()) << made.status();
    auto token = Token::Login(module_, label, Secret(kUserPin));
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? *token : nullptr;
  }

  TempDir dir_{"tessera-vreader"};
  fs::path state_ = dir_.path() / "state";
  std::string conf_ = dir_.File("vreader.conf");
  std::shared_ptr<Module> module_;
  Botan::AutoSeeded_RNG rng_;
};

TEST_F(VreaderTest, FirstStartHasFourBlankCards) {
  Load(kFast);
  auto tokens = module_->ListTokens();
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  ASSERT_EQ(tokens->size(), 4u);
  std::set<std::string> serials;
  for (size_t i = 0; i < tokens->size(); ++i) {
    const TokenInfo& token = (*tokens)[i];
    EXPECT_EQ(token.slot, i);
    EXPECT_FALSE(token.initialized);
    EXPECT_EQ(token.label, "");
    EXPECT_EQ(token.manufacturer, "tessera");
    EXPECT_EQ(token.model, "virtual card");
    EXPECT_EQ(token.serial.size(), 16u);
    serials.insert(token.serial);
  }
  EXPECT_EQ(serials.size(), 4u);

  CK_SLOT_INFO slot{};
  ASSERT_EQ(fn()->C_GetSlotInfo(2, &slot), CKR_OK);
  EXPECT_EQ(Field(slot.slotDescription, sizeof slot.slotDescription), "tessera virtual reader 2");
  EXPECT_EQ(slot.flags, CKF_REMOVABLE_DEVICE | CKF_HW_SLOT | CKF_TOKEN_PRESENT);
  EXPECT_EQ(fn()->C_GetSlotInfo(4, &slot), CKR_SLOT_ID_INVALID);
  EXPECT_EQ(Files(state_), (std::vector<std::string>{"feeder", "produced", "rejected", "slot-0",
                                                     "slot-1", "slot-2", "slot-3"}));
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  EXPECT_EQ(fn()->C_Initialize(&args), CKR_CRYPTOKI_ALREADY_INITIALIZED);
  EXPECT_EQ(fn()->C_WaitForSlotEvent(0, nullptr, nullptr), CKR_FUNCTION_NOT_SUPPORTED);
}

TEST_F(VreaderTest, InitTokenInitPinSetPinAndUserLogin) {
  Load(kFast);
  ASSERT_EQ(InitToken(2, kSoPin, "card-two"), CKR_OK);
  CK_TOKEN_INFO info = Info(2);
  EXPECT_EQ(Field(info.label, sizeof info.label), "card-two");
  EXPECT_TRUE(info.flags & CKF_TOKEN_INITIALIZED);
  EXPECT_FALSE(info.flags & CKF_USER_PIN_INITIALIZED);
  EXPECT_EQ(Serial(2).find_first_not_of("0123456789ABCDEF"), std::string::npos);

  CK_SESSION_HANDLE session = Open(2);
  EXPECT_EQ(InitToken(2, kSoPin, "again"), CKR_SESSION_EXISTS);
  EXPECT_EQ(fn()->C_Login(session, CKU_USER, Pin(kUserPin), 8), CKR_USER_PIN_NOT_INITIALIZED);
  ASSERT_EQ(fn()->C_Login(session, CKU_SO, Pin(kSoPin), 8), CKR_OK);
  ASSERT_EQ(fn()->C_InitPIN(session, Pin(kUserPin), 8), CKR_OK);
  ASSERT_EQ(fn()->C_Logout(session), CKR_OK);
  EXPECT_TRUE(Info(2).flags & CKF_USER_PIN_INITIALIZED);
  ASSERT_EQ(fn()->C_Login(session, CKU_USER, Pin(kUserPin), 8), CKR_OK);
  EXPECT_EQ(fn()->C_Login(session, CKU_USER, Pin(kUserPin), 8), CKR_USER_ALREADY_LOGGED_IN);
  CK_SESSION_INFO session_info{};
  ASSERT_EQ(fn()->C_GetSessionInfo(session, &session_info), CKR_OK);
  EXPECT_EQ(session_info.state, CKS_RW_USER_FUNCTIONS);
  EXPECT_EQ(session_info.slotID, 2u);

  ASSERT_EQ(fn()->C_SetPIN(session, Pin(kUserPin), 8, Pin("24681357"), 8), CKR_OK);
  ASSERT_EQ(fn()->C_Logout(session), CKR_OK);
  EXPECT_EQ(fn()->C_Login(session, CKU_USER, Pin(kUserPin), 8), CKR_PIN_INCORRECT);
  EXPECT_EQ(fn()->C_Login(session, CKU_USER, Pin("24681357"), 8), CKR_OK);
  ASSERT_EQ(fn()->C_CloseSession(session), CKR_OK);
  // Our layer sees the card under its label.
  EXPECT_TRUE(Token::Login(module_, "card-two", Secret("24681357")).ok());

  // An initialized card is re-initialized only with its SO PIN, and then wiped.
  EXPECT_EQ(InitToken(2, "11111111", "stolen"), CKR_PIN_INCORRECT);
  ASSERT_EQ(InitToken(2, kSoPin, "card-two-again"), CKR_OK);
  info = Info(2);
  EXPECT_EQ(Field(info.label, sizeof info.label), "card-two-again");
  EXPECT_FALSE(info.flags & CKF_USER_PIN_INITIALIZED);
  EXPECT_FALSE(info.flags & CKF_SO_PIN_COUNT_LOW);  // the right SO PIN reset the counter
}

// A key pair made on the card signs through our Botan adapter like a SoftHSM key.
class VreaderKeyTest : public VreaderTest, public ::testing::WithParamInterface<KeyAlgorithm> {};

TEST_P(VreaderKeyTest, KeySignsCsrAndSelfSignedCertAndTheCertificateIsFoundById) {
  Load(kFast);
  std::shared_ptr<Token> token = MakeCard("keys");
  ASSERT_NE(token, nullptr);
  auto generated =
      GenerateTokenKey(token, {.algorithm = GetParam(), .id = Id("card"), .label = "card"});
  ASSERT_TRUE(generated.ok()) << generated.status();

  Botan::X509_Cert_Options options("RSSMRA80A01H501U/IT/Ministero dell'Interno/Operatori");
  Botan::PKCS10_Request request =
      Botan::X509::create_cert_req(options, **generated, "SHA-256", rng_);
  EXPECT_TRUE(request.check_signature(*request.subject_public_key()));

  // The key found again by CKA_ID signs a self-signed certificate that verifies.
  auto loaded = LoadTokenKey(token, Id("card"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  Botan::X509_Certificate cert =
      Botan::X509::create_self_signed_cert(options, **loaded, "SHA-256", rng_);
  EXPECT_TRUE(cert.check_signature(*cert.subject_public_key()));
  EXPECT_EQ(cert.subject_public_key_info(), request.raw_public_key());
  std::vector<uint8_t> der = cert.BER_encode();
  std::vector<uint8_t> tampered = der;
  tampered[tampered.size() - 5] ^= 0x40;
  EXPECT_FALSE(Botan::X509_Certificate(tampered).check_signature(*cert.subject_public_key()));

  auto lease = token->Acquire();
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE((*lease)->WriteCertificate(Id("card"), "card", der).ok());
  auto found = (*lease)->FindById(CKO_CERTIFICATE, Id("card"));
  ASSERT_TRUE(found.ok()) << found.status();
  auto value = (*lease)->GetAttribute(*found, CKA_VALUE);
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, der);
  EXPECT_EQ((*lease)->FindById(CKO_CERTIFICATE, Id("other")).status().code(),
            absl::StatusCode::kNotFound);

  // The public key's attributes as SoftHSM gives them.
  auto pub = (*lease)->FindById(CKO_PUBLIC_KEY, Id("card"));
  ASSERT_TRUE(pub.ok());
  if (GetParam() == KeyAlgorithm::kEcP256) {
    auto point = (*lease)->GetAttribute(*pub, CKA_EC_POINT);
    ASSERT_TRUE(point.ok());
    ASSERT_EQ(point->size(), 67u);  // OCTET STRING (0x04 0x41) around 04 || x || y
    EXPECT_EQ((*point)[0], 0x04);
    EXPECT_EQ((*point)[1], 0x41);
    EXPECT_EQ((*point)[2], 0x04);
  } else {
    auto modulus = (*lease)->GetAttribute(*pub, CKA_MODULUS);
    ASSERT_TRUE(modulus.ok());
    EXPECT_EQ(modulus->size(), 256u);
    EXPECT_EQ((*lease)->GetAttribute(*pub, CKA_PUBLIC_EXPONENT).value(),
              (std::vector<uint8_t>{1, 0, 1}));
  }
}

INSTANTIATE_TEST_SUITE_P(Algorithms, VreaderKeyTest,
                         ::testing::Values(KeyAlgorithm::kEcP256, KeyAlgorithm::kRsa2048),
                         [](const ::testing::TestParamInfo<KeyAlgorithm>& info) {
                           return info.param == KeyAlgorithm::kEcP256 ? "EcP256" : "Rsa2048";
                         });

TEST_F(VreaderTest, PrivateKeyIsSensitiveAndHiddenWithoutLogin) {
  Load(kFast);
  std::shared_ptr<Token> token = MakeCard("attrs");
  ASSERT_NE(token, nullptr);
  auto lease = token->Acquire();
  ASSERT_TRUE(lease.ok());
  auto pair = (*lease)->GenerateKeyPair(
      {.algorithm = KeyAlgorithm::kEcP256, .id = Id("k1"), .label = "k1"});
  ASSERT_TRUE(pair.ok()) << pair.status();
  EXPECT_EQ((*lease)->GetAttribute(pair->private_key, CKA_VALUE).status().message(),
            "C_GetAttributeValue: CKR_ATTRIBUTE_SENSITIVE");

  CK_ATTRIBUTE query{CKA_VALUE, nullptr, 0};
  EXPECT_EQ(fn()->C_GetAttributeValue((*lease)->handle(), pair->private_key, &query, 1),
            CKR_ATTRIBUTE_SENSITIVE);
  EXPECT_EQ(query.ulValueLen, CK_UNAVAILABLE_INFORMATION);
  query = {CKA_MODULUS, nullptr, 0};
  EXPECT_EQ(fn()->C_GetAttributeValue((*lease)->handle(), pair->private_key, &query, 1),
            CKR_ATTRIBUTE_TYPE_INVALID);
  uint8_t small[10];
  query = {CKA_EC_POINT, small, sizeof small};
  EXPECT_EQ(fn()->C_GetAttributeValue((*lease)->handle(), pair->public_key, &query, 1),
            CKR_BUFFER_TOO_SMALL);

  auto flag = [&](CK_ATTRIBUTE_TYPE type) {
    auto value = (*lease)->GetAttribute(pair->private_key, type);
    EXPECT_TRUE(value.ok()) << value.status();
    return value.ok() && value->size() == 1 && (*value)[0] == CK_TRUE;
  };
  EXPECT_TRUE(flag(CKA_TOKEN));
  EXPECT_TRUE(flag(CKA_PRIVATE));
  EXPECT_TRUE(flag(CKA_SENSITIVE));
  EXPECT_TRUE(flag(CKA_ALWAYS_SENSITIVE));
  EXPECT_TRUE(flag(CKA_NEVER_EXTRACTABLE));
  EXPECT_TRUE(flag(CKA_SIGN));
  EXPECT_FALSE(flag(CKA_EXTRACTABLE));
  EXPECT_FALSE(flag(CKA_DECRYPT));

  // Logged out, the private key does not exist; the public key does.
  ASSERT_TRUE((*lease)->Logout().ok());
  EXPECT_EQ((*lease)->FindById(CKO_PRIVATE_KEY, Id("k1")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE((*lease)->FindById(CKO_PUBLIC_KEY, Id("k1")).ok());
  CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
  EXPECT_EQ(fn()->C_SignInit((*lease)->handle(), &ecdsa, pair->private_key),
            CKR_USER_NOT_LOGGED_IN);
  ASSERT_TRUE((*lease)->Login(CKU_USER, Secret(kUserPin)).ok());
}

TEST_F(VreaderTest, UserPinLocksAfterThreeWrongTriesAndThePukUnblocksIt) {
  Load(kFast);
  ASSERT_NE(MakeCard("lock"), nullptr);  // and released: logged out
  const CK_SLOT_ID slot = module_->FindTokenByLabel("lock")->slot;
  CK_SESSION_HANDLE session = Open(slot);

  const CK_FLAGS pin_flags = CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED;
  EXPECT_EQ(fn()->C_Login(session, CKU_USER, Pin("00000000"), 8), CKR_PIN_INCORRECT);
  EXPECT_EQ(Info(slot).flags & pin_flags, CKF_USER_PIN_COUNT_LOW);
  EXPECT_EQ(fn()->C_Login(session, CKU_USER, Pin("00000000"), 8), CKR_PIN_INCORRECT);
  EXPECT_EQ(Info(slot).flags & pin_flags, CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
  EXPECT_EQ(fn()->C_Login(session, CKU_USER, Pin("00000000"), 8), CKR_PIN_INCORRECT);
  EXPECT_EQ(Info(slot).flags & pin_flags, CKF_USER_PIN_LOCKED);
  EXPECT_EQ(fn()->C_Login(session, CKU_USER, Pin(kUserPin), 8), CKR_PIN_LOCKED);
  EXPECT_EQ(Token::Login(module_, "lock", Secret(kUserPin)).status().message(),
            "C_Login: CKR_PIN_LOCKED");

  // The PUK (SO PIN) unblocks: a new user PIN, counter reset.
  ASSERT_EQ(fn()->C_Login(session, CKU_SO, Pin(kSoPin), 8), CKR_OK);
  ASSERT_EQ(fn()->C_InitPIN(session, Pin("11223344"), 8), CKR_OK);
  ASSERT_EQ(fn()->C_Logout(session), CKR_OK);
  EXPECT_EQ(Info(slot).flags & pin_flags, 0u);
  EXPECT_EQ(fn()->C_Login(session, CKU_USER, Pin("00000000"), 8), CKR_PIN_INCORRECT);
  ASSERT_EQ(fn()->C_Login(session, CKU_USER, Pin("11223344"), 8), CKR_OK);
  EXPECT_EQ(Info(slot).flags & pin_flags, 0u);  // a right PIN resets the counter
  ASSERT_EQ(fn()->C_Logout(session), CKR_OK);

  // Three wrong SO PINs: the card is dead.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(fn()->C_Login(session, CKU_SO, Pin("99999999"), 8), CKR_PIN_INCORRECT);
  }
  EXPECT_TRUE(Info(slot).flags & CKF_SO_PIN_LOCKED);
  EXPECT_EQ(fn()->C_Login(session, CKU_SO, Pin(kSoPin), 8), CKR_PIN_LOCKED);
  ASSERT_EQ(fn()->C_CloseSession(session), CKR_OK);
  EXPECT_EQ(InitToken(slot, kSoPin, "reborn"), CKR_PIN_LOCKED);
}

TEST_F(VreaderTest, CardsSurviveFinalizeAndInitialize) {
  Load(kFast);
  std::vector<uint8_t> der;
  std::string serial;
  {
    std::shared_ptr<Token> token = MakeCard("keep");
    ASSERT_NE(token, nullptr);
    serial = token->info().serial;
    auto key =
        GenerateTokenKey(token, {.algorithm = KeyAlgorithm::kEcP256, .id = Id("k"), .label = "k"});
    ASSERT_TRUE(key.ok()) << key.status();
    Botan::X509_Cert_Options options("keep/IT");
    der = Botan::X509::create_self_signed_cert(options, **key, "SHA-256", rng_).BER_encode();
    auto lease = token->Acquire();
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE((*lease)->WriteCertificate(Id("k"), "k", der).ok());
  }
  Unload();

  // The configuration is read again too: two more readers, fed from the feeder.
  Load(std::string(kFast) + "slots = 6\n");
  auto tokens = module_->ListTokens();
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->size(), 6u);
  auto found = module_->FindTokenByLabel("keep");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->serial, serial);
  auto token = Token::Login(module_, "keep", Secret(kUserPin));
  ASSERT_TRUE(token.ok()) << token.status();
  {
    auto lease = (*token)->Acquire();
    ASSERT_TRUE(lease.ok());
    EXPECT_EQ((*lease)->ReadCertificate(Id("k")).value(), der);
  }
  auto key = LoadTokenKey(*token, Id("k"));
  ASSERT_TRUE(key.ok()) << key.status();
  Botan::X509_Certificate cert(der);
  Botan::PKCS10_Request request =
      Botan::X509::create_cert_req(Botan::X509_Cert_Options("again/IT"), **key, "SHA-256", rng_);
  EXPECT_TRUE(request.check_signature(*cert.subject_public_key()));
}

TEST_F(VreaderTest, ACardWrittenBeforeASigkillIsIntact) {
  WriteFile(conf_, "state_dir = " + state_.string() + "\n" + kFast);
  setenv("TESSERA_VREADER_CONF", conf_.c_str(), 1);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The "daemon": makes a card and dies without C_Finalize.
    auto module = Module::Load(kModulePath);
    if (!module.ok() || !(*module)->InitToken("killed", Secret(kSoPin), Secret(kUserPin)).ok()) {
      _exit(1);
    }
    auto token = Token::Login(*module, "killed", Secret(kUserPin));
    if (!token.ok() || !GenerateTokenKey(*token, {.id = Id("k"), .label = "k"}).ok()) _exit(2);
    kill(getpid(), SIGKILL);
    _exit(3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);

  auto module = Module::Load(kModulePath);
  ASSERT_TRUE(module.ok()) << module.status();
  module_ = *module;
  auto token = Token::Login(module_, "killed", Secret(kUserPin));
  ASSERT_TRUE(token.ok()) << token.status();
  auto key = LoadTokenKey(*token, Id("k"));
  ASSERT_TRUE(key.ok()) << key.status();
  Botan::PKCS10_Request request =
      Botan::X509::create_cert_req(Botan::X509_Cert_Options("killed/IT"), **key, "SHA-256", rng_);
  EXPECT_TRUE(request.check_signature(*request.subject_public_key()));
}

TEST_F(VreaderTest, CloseAllSessionsEjectsIntoProducedAndTheFeederInsertsABlankCard) {
  Load(std::string(kFast) + "stock = 1\n");
  // On a blank card it only closes sessions.
  const std::string blank = Serial(1);
  CK_SESSION_HANDLE on_blank = Open(1);
  ASSERT_EQ(fn()->C_CloseAllSessions(1), CKR_OK);
  EXPECT_EQ(fn()->C_CloseSession(on_blank), CKR_SESSION_HANDLE_INVALID);
  EXPECT_EQ(Serial(1), blank);

  std::shared_ptr<Token> token = MakeCard("eject-me");
  ASSERT_NE(token, nullptr);
  const CK_SLOT_ID slot = token->info().slot;
  const std::string serial = token->info().serial;
  token.reset();
  CK_SESSION_HANDLE session = Open(slot);
  ASSERT_EQ(fn()->C_CloseAllSessions(slot), CKR_OK);
  EXPECT_EQ(Files(state_ / "produced"), std::vector<std::string>{"eject-me-" + serial});
  CK_SESSION_INFO info{};
  EXPECT_EQ(fn()->C_GetSessionInfo(session, &info), CKR_SESSION_HANDLE_INVALID);
  CK_TOKEN_INFO fresh = Info(slot);
  EXPECT_FALSE(fresh.flags & CKF_TOKEN_INITIALIZED);
  EXPECT_NE(Field(fresh.serialNumber, sizeof fresh.serialNumber), serial);

  // The one card in stock is used: the next eject leaves the reader empty.
  ASSERT_NE(MakeCard("second"), nullptr);
  const CK_SLOT_ID second = module_->FindTokenByLabel("second")->slot;
  ASSERT_EQ(fn()->C_CloseAllSessions(second), CKR_OK);
  EXPECT_EQ(Files(state_ / "produced").size(), 2u);
  CK_TOKEN_INFO none{};
  EXPECT_EQ(fn()->C_GetTokenInfo(second, &none), CKR_TOKEN_NOT_PRESENT);
  CK_ULONG count = 0;
  ASSERT_EQ(fn()->C_GetSlotList(CK_TRUE, nullptr, &count), CKR_OK);
  EXPECT_EQ(count, 3u);
  ASSERT_EQ(fn()->C_GetSlotList(CK_FALSE, nullptr, &count), CKR_OK);
  EXPECT_EQ(count, 4u);
}

TEST_F(VreaderTest, TheFeederWaitsFeedMsBeforeTheNextCard) {
  Load("apdu_ms = 0\nkeygen_ms = 0\nfeed_ms = 1000\n");
  ASSERT_NE(MakeCard("fed"), nullptr);
  const CK_SLOT_ID slot = module_->FindTokenByLabel("fed")->slot;
  const Clock::time_point ejected = Clock::now();
  ASSERT_EQ(fn()->C_CloseAllSessions(slot), CKR_OK);
  CK_TOKEN_INFO info{};
  CK_RV rv = fn()->C_GetTokenInfo(slot, &info);
  while (rv == CKR_TOKEN_NOT_PRESENT && MsSince(ejected) < 10000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    rv = fn()->C_GetTokenInfo(slot, &info);
  }
  ASSERT_EQ(rv, CKR_OK);
  EXPECT_GE(MsSince(ejected), 1000);
  EXPECT_FALSE(info.flags & CKF_TOKEN_INITIALIZED);
}

TEST_F(VreaderTest, AFailingSlotFailsEveryCardCallWhileTheOthersWork) {
  Load(std::string(kFast) + "failing_slots = 1\n");
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  EXPECT_EQ(fn()->C_OpenSession(1, CKF_SERIAL_SESSION, nullptr, nullptr, &session),
            CKR_DEVICE_ERROR);
  EXPECT_EQ(InitToken(1, kSoPin, "broken"), CKR_DEVICE_ERROR);
  EXPECT_FALSE(Info(1).flags & CKF_TOKEN_INITIALIZED);  // not a card call: answers

  std::shared_ptr<Token> token = MakeCard("works");  // slot 0
  ASSERT_NE(token, nullptr);
  EXPECT_TRUE(GenerateTokenKey(token, {.id = Id("k"), .label = "k"}).ok());
  EXPECT_EQ(fn()->C_CloseSession(Open(2)), CKR_OK);
}

TEST_F(VreaderTest, FailRateOneFailsCardCallsWithoutEffect) {
  Load(std::string(kFast) + "fail_rate = 1.0\n");
  EXPECT_EQ(InitToken(0, kSoPin, "never"), CKR_DEVICE_ERROR);
  EXPECT_FALSE(Info(0).flags & CKF_TOKEN_INITIALIZED);
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  EXPECT_EQ(fn()->C_OpenSession(0, CKF_SERIAL_SESSION, nullptr, nullptr, &session),
            CKR_DEVICE_ERROR);
  auto tokens = module_->ListTokens();
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->size(), 4u);
}

TEST_F(VreaderTest, RemoveRateOnePullsTheCardIntoRejected) {
  Load(std::string(kFast) + "remove_rate = 1.0\n");
  const std::string serial = Serial(0);
  EXPECT_EQ(InitToken(0, kSoPin, "pulled"), CKR_DEVICE_REMOVED);
  EXPECT_EQ(Files(state_ / "rejected"), std::vector<std::string>{"blank-" + serial});
  CK_TOKEN_INFO fresh = Info(0);  // a new blank card from the feeder
  EXPECT_FALSE(fresh.flags & CKF_TOKEN_INITIALIZED);
  EXPECT_NE(Field(fresh.serialNumber, sizeof fresh.serialNumber), serial);
}

TEST_F(VreaderTest, SessionsOnAPulledCardAreDead) {
  Load(std::string(kFast) + "remove_rate = 0.5\nseed = 7\n");
  bool pulled = false;
  for (int attempt = 0; attempt < 200 && !pulled; ++attempt) {
    CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
    if (fn()->C_OpenSession(0, CKF_SERIAL_SESSION, nullptr, nullptr, &session) != CKR_OK) {
      continue;
    }
    uint8_t random[8];
    CK_RV rv = CKR_OK;
    while (rv == CKR_OK) rv = fn()->C_GenerateRandom(session, random, sizeof random);
    ASSERT_EQ(rv, CKR_DEVICE_REMOVED);
    // The card is gone: every call on the session says so, and closing it is fine.
    EXPECT_EQ(fn()->C_GenerateRandom(session, random, sizeof random), CKR_DEVICE_REMOVED);
    CK_SESSION_INFO info{};
    EXPECT_EQ(fn()->C_GetSessionInfo(session, &info), CKR_DEVICE_REMOVED);
    EXPECT_EQ(fn()->C_CloseSession(session), CKR_OK);
    pulled = true;
  }
  EXPECT_TRUE(pulled);
  EXPECT_FALSE(Files(state_ / "rejected").empty());
}

TEST_F(VreaderTest, Pkcs11ToolListsReadersAndTheProducedCard) {
  Load(kFast);
  {
    std::shared_ptr<Token> token = MakeCard("0580010000000042");
    ASSERT_NE(token, nullptr);
    auto key = GenerateTokenKey(token, {.id = Id("\x01"), .label = "card"});
    ASSERT_TRUE(key.ok()) << key.status();
    Botan::X509_Cert_Options options("0580010000000042/IT/Ministero dell'Interno/Operatori");
    std::vector<uint8_t> der =
        Botan::X509::create_self_signed_cert(options, **key, "SHA-256", rng_).BER_encode();
    auto lease = token->Acquire();
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE((*lease)->WriteCertificate(Id("\x01"), "card", der).ok());
  }
  const std::string tool = "pkcs11-tool --module " + ShellQuote(kModulePath);
  // One process at a time on a state_dir, as with real readers.
  Unload();
  auto listed = RunCommand(tool + " -L");
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("tessera virtual reader 3"), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("0580010000000042"), std::string::npos) << listed.output;

  Load(kFast);
  ASSERT_EQ(fn()->C_CloseAllSessions(0), CKR_OK);
  Unload();
  const std::string produced = "TESSERA_VREADER_TRAY=produced " + tool;
  listed = RunCommand(produced + " -L");
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("0580010000000042"), std::string::npos) << listed.output;
  EXPECT_EQ(listed.output.find("reader 1"), std::string::npos) << listed.output;  // one card

  auto objects = RunCommand(produced + " -O");
  ASSERT_EQ(objects.exit_code, 0) << objects.output;
  EXPECT_NE(objects.output.find("Public Key Object; EC"), std::string::npos) << objects.output;
  EXPECT_NE(objects.output.find("Certificate Object"), std::string::npos) << objects.output;
  EXPECT_EQ(objects.output.find("Private Key Object"), std::string::npos) << objects.output;
  objects = RunCommand(produced + " --login --pin " + kUserPin + " -O");
  ASSERT_EQ(objects.exit_code, 0) << objects.output;
  EXPECT_NE(objects.output.find("Private Key Object"), std::string::npos) << objects.output;
}

TEST_F(VreaderTest, FourCardsMadeAtOnceOnFourReaders) {
  Load(std::string(kFast) + "stock = 0\n");
  std::vector<std::thread> encoders;
  for (int i = 0; i < 4; ++i) {
    encoders.emplace_back([this, i] {
      const std::string label = "card-" + std::to_string(i);
      std::shared_ptr<Token> token = MakeCard(label);
      if (token == nullptr) return;
      auto key = GenerateTokenKey(token, {.id = Id("k"), .label = label});
      ASSERT_TRUE(key.ok()) << key.status();
      Botan::AutoSeeded_RNG rng;
      auto cert = Botan::X509::create_self_signed_cert(Botan::X509_Cert_Options(label + "/IT"),
                                                       **key, "SHA-256", rng);
      EXPECT_TRUE(cert.check_signature(*cert.subject_public_key()));
      const CK_SLOT_ID slot = token->info().slot;
      key->reset();
      token.reset();
      EXPECT_EQ(fn()->C_CloseAllSessions(slot), CKR_OK);
    });
  }
  for (std::thread& encoder : encoders) encoder.join();
  EXPECT_EQ(Files(state_ / "produced").size(), 4u);
  CK_ULONG count = 0;
  ASSERT_EQ(fn()->C_GetSlotList(CK_TRUE, nullptr, &count), CKR_OK);
  EXPECT_EQ(count, 0u);  // no stock: four empty readers
}

// The one test with real time: latency is applied (a lower bound), and slots do not wait for
// each other.
// A lower bound only: how well readers overlap is measured in bench/perso, not here.
TEST_F(VreaderTest, LatencyIsAppliedToCardCalls) {
  Load("apdu_ms = 20\nkeygen_ms = 0\n");
  ASSERT_NE(MakeCard("slow"), nullptr);
  const CK_SLOT_ID slot = module_->FindTokenByLabel("slow")->slot;
  CK_SESSION_HANDLE session = Open(slot);
  const Clock::time_point start = Clock::now();
  ASSERT_EQ(fn()->C_Login(session, CKU_USER, Pin(kUserPin), 8), CKR_OK);
  EXPECT_GE(MsSince(start), 20);
}

TEST_F(VreaderTest, ABadConfigurationFailsInitializeWithOneLine) {
  auto fails = [&](const std::string& config) {
    WriteFile(conf_, config);
    ::testing::internal::CaptureStderr();
    auto module = Module::Load(kModulePath);
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_FALSE(module.ok());
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    return err;
  };
  setenv("TESSERA_VREADER_CONF", conf_.c_str(), 1);
  const std::string dir = "state_dir = " + state_.string() + "\n";
  EXPECT_NE(fails(dir + "slots = 300\n").find("slots: must be an integer from 1 to 256"),
            std::string::npos);
  EXPECT_NE(fails(dir + "colour = blue\n").find("colour: unknown key"), std::string::npos);
  EXPECT_NE(fails(dir + "fail_rate = 2\n").find("fail_rate"), std::string::npos);
  EXPECT_NE(fails(dir + "profile = ecc\n").find("profile"), std::string::npos);
  EXPECT_NE(fails("slots = 2\n").find("state_dir"), std::string::npos);
  EXPECT_NE(fails(dir + "failing_slots = 4\n").find("failing_slots"), std::string::npos);
  unsetenv("TESSERA_VREADER_CONF");
  EXPECT_NE(fails("").find("TESSERA_VREADER_CONF"), std::string::npos);
  setenv("TESSERA_VREADER_CONF", dir_.File("missing.conf").c_str(), 1);
  EXPECT_NE(fails("").find("missing.conf"), std::string::npos);
}

}  // namespace
}  // namespace tessera::hsm
