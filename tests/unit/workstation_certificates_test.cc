// The ALP's workstation certificates (registry/workstation_certificates.h): who may list and
// download them, what a download holds (the zip read back by Info-ZIP's unzip), and that every
// download is recorded before anything is returned.
#include "registry/workstation_certificates.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "registry/census.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"

namespace tessera::registry {
namespace {

using tessera::testing::RunCommand;
using tessera::testing::TempDir;

class MemoryWorkstations final : public WorkstationStore {
 public:
  absl::StatusOr<std::vector<Workstation>> WorkstationsOf(const std::string& owner) override {
    asked_owner = owner;
    return workstations;
  }
  absl::Status RecordDownload(const WorkstationDownload& download) override {
    if (!record_fails.ok()) return record_fails;
    downloads.push_back(download);
    return absl::OkStatus();
  }

  std::vector<Workstation> workstations;
  std::string asked_owner;
  std::vector<WorkstationDownload> downloads;
  absl::Status record_fails = absl::OkStatus();
};

class WorkstationCertificatesTest : public ::testing::Test {
 protected:
  WorkstationCertificatesTest()
      : clock_(std::chrono::sys_days(std::chrono::year{2026} / 12 / 3) + std::chrono::hours(10)),
        certificates_(
            store_,
            [this](const std::string& serial) -> absl::StatusOr<WorkstationBundle> {
              ++fetches_;
              if (revoked_.contains(serial)) {
                return absl::FailedPreconditionError(absl::StrCat(
                    "serial ", serial, ": the certificate is revoked; it must not be installed"));
              }
              auto found = bundles_.find(serial);
              if (found == bundles_.end()) return absl::UnavailableError("tessera-ca down");
              return WorkstationBundle{.pkcs12 = {found->second.begin(), found->second.end()},
                                       .password = Secret(absl::StrCat("pw-", serial))};
            },
            clock_) {
    store_.workstations = {
        {.common_id = "0570010001", .state = "PRODOTTA", .certificate_serial = "0a"},
        {.common_id = "0570010002", .state = "LAVORAZIONE"},
        {.common_id = "0570010099", .state = "PRODOTTA", .certificate_serial = "0b"},
    };
    bundles_ = {{"0a", "p12 of 0001"}, {"0b", "p12 of 0099"}};
  }

  static Principal At(const std::string& office, std::vector<std::string> profiles,
                      const std::string& machine = "0570010001") {
    Principal caller{PrincipalKind::kWorkstation, machine};
    caller.session = PersonSession{
        .id = "session-1", .person = "CSTPLA83S10A241X", .office = office, .profiles = profiles};
    return caller;
  }
  static Principal Alp() { return At("comune:057001", {kAccessoWeb, kAmministratorePostazioni}); }

  FakeClock clock_;
  MemoryWorkstations store_;
  std::map<std::string, std::string> bundles_;
  std::set<std::string> revoked_;
  int fetches_ = 0;
  WorkstationCertificates certificates_;
};

TEST_F(WorkstationCertificatesTest, OnlyTheOfficesAlpListsItsOwnWorkstations) {
  absl::StatusOr<std::vector<Workstation>> listed = certificates_.List("", Alp());
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->size(), 3u);
  EXPECT_EQ(store_.asked_owner, "057001");
  EXPECT_TRUE(certificates_.List("comune:057001", Alp()).ok());

  // Another comune, even of the same province: the ALP of Accumoli is no one's there.
  absl::Status other = certificates_.List("comune:057002", Alp()).status();
  EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(other.message().find("office: comune:057001's Amministratore Postazioni may not act "
                                 "for comune:057002"),
            std::string::npos)
      << other;
  // The comune's security administrator and its mayor are not its ALP.
  EXPECT_EQ(certificates_.List("", At("comune:057001", {kAmministratoreSicurezza})).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(certificates_.List("", At("comune:057001", {kSindacoDelegato})).status().code(),
            absl::StatusCode::kPermissionDenied);
  // A machine without a person's session.
  EXPECT_EQ(
      certificates_.List("", Principal{PrincipalKind::kWorkstation, "0570010001"}).status().code(),
      absl::StatusCode::kPermissionDenied);
  // A Ministry operator takes bundles from tessera-ca itself, not through an office.
  EXPECT_EQ(
      certificates_.List("comune:057001", At("ministero", {"operatore_ministero"}, "tessera-cli"))
          .status()
          .code(),
      absl::StatusCode::kPermissionDenied);
}

TEST_F(WorkstationCertificatesTest, APrefetturasAlpHasItsOwnProfileAndOwnerCode) {
  const Principal prefettura_alp =
      At("prefettura:057", {kAmministratorePostazioniPrefettura}, "0570000001");
  ASSERT_TRUE(certificates_.List("", prefettura_alp).ok());
  EXPECT_EQ(store_.asked_owner, "057000");
  // The comune profile's name does not open a prefettura's certificates.
  EXPECT_EQ(certificates_.List("", At("prefettura:057", {kAmministratorePostazioni}, "0570000001"))
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(WorkstationCertificatesTest, DownloadsOneWithItsPasswordAndRecordsIt) {
  absl::StatusOr<WorkstationCertificates::Downloaded> one =
      certificates_.Download("", {"0570010099"}, false, Alp());
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->bundles.size(), 1u);
  EXPECT_EQ(one->bundles[0].first.common_id, "0570010099");
  EXPECT_EQ(one->bundles[0].second.password.view(), "pw-0b");
  EXPECT_TRUE(one->zip.empty());
  ASSERT_EQ(store_.downloads.size(), 1u);
  const WorkstationDownload& recorded = store_.downloads[0];
  EXPECT_EQ(recorded.office, "comune:057001");
  EXPECT_EQ(recorded.common_ids, std::vector<std::string>{"0570010099"});
  EXPECT_FALSE(recorded.archive);
  EXPECT_EQ(recorded.person, "CSTPLA83S10A241X");
  EXPECT_EQ(recorded.session, "session-1");
  EXPECT_EQ(recorded.machine, "0570010001");
  EXPECT_EQ(recorded.at, clock_.Now());
}

TEST_F(WorkstationCertificatesTest, DownloadsAllProducedAsOneZipWithAPasswordsFile) {
  absl::StatusOr<WorkstationCertificates::Downloaded> all =
      certificates_.Download("", {}, true, Alp());
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->bundles.size(), 2u);  // 0002 is still LAVORAZIONE
  EXPECT_EQ(store_.downloads.back().common_ids,
            (std::vector<std::string>{"0570010001", "0570010099"}));
  EXPECT_TRUE(store_.downloads.back().archive);

  TempDir dir;
  const std::string zip = dir.File("postazioni.zip");
  std::ofstream(zip, std::ios::binary)
      .write(reinterpret_cast<const char*>(all->zip.data()),
             static_cast<std::streamsize>(all->zip.size()));
  tessera::testing::CommandResult listing = RunCommand("unzip -Z1 " + zip);
  ASSERT_EQ(listing.exit_code, 0) << listing.output;
  EXPECT_EQ(listing.output, "0570010001.p12\n0570010099.p12\npasswords.txt\n");
  tessera::testing::CommandResult test = RunCommand("unzip -tq " + zip);
  EXPECT_EQ(test.exit_code, 0) << test.output;
  EXPECT_EQ(RunCommand("unzip -p " + zip + " 0570010099.p12").output, "p12 of 0099");
  const std::string passwords = RunCommand("unzip -p " + zip + " passwords.txt").output;
  EXPECT_NE(passwords.find("Certificati di postazione di comune:057001, scaricati il 03/12/2026"),
            std::string::npos)
      << passwords;
  EXPECT_NE(passwords.find("0570010001   0570010001.p12   pw-0a"), std::string::npos) << passwords;
  EXPECT_NE(passwords.find("0570010099   0570010099.p12   pw-0b"), std::string::npos) << passwords;

  // The same download at the same moment is the same archive, byte for byte.
  absl::StatusOr<WorkstationCertificates::Downloaded> again =
      certificates_.Download("", {}, true, Alp());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->zip, all->zip);
}

TEST_F(WorkstationCertificatesTest, RefusesWhatIsNotTheOfficesOrNotProducedAndRecordsNothing) {
  absl::Status unknown = certificates_.Download("", {"0570020001"}, false, Alp()).status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(unknown.message().find("common_ids: 0570020001 is not a workstation of comune:057001"),
            std::string::npos)
      << unknown;
  absl::Status pending = certificates_.Download("", {"0570010002"}, false, Alp()).status();
  EXPECT_EQ(pending.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(pending.message().find("0570010002 is not produced (LAVORAZIONE)"), std::string::npos)
      << pending;
  EXPECT_EQ(certificates_.Download("", {"0570010001", "0570010001"}, false, Alp()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(certificates_.Download("comune:057002", {}, true, Alp()).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(store_.downloads.empty());
  EXPECT_EQ(fetches_, 0);

  store_.workstations = {{.common_id = "0570010001", .state = "FALLITA", .failure = "HSM down"}};
  EXPECT_EQ(certificates_.Download("", {}, true, Alp()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(WorkstationCertificatesTest, DownloadingAllLeavesOutARevokedCertificateAndSaysSo) {
  revoked_.insert("0a");  // 0570010001 stolen and revoked after it was produced
  absl::StatusOr<WorkstationCertificates::Downloaded> all =
      certificates_.Download("", {}, true, Alp());
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->bundles.size(), 1u);
  EXPECT_EQ(all->bundles[0].first.common_id, "0570010099");
  ASSERT_EQ(all->left_out.size(), 1u);
  EXPECT_EQ(all->left_out[0].first.common_id, "0570010001");
  EXPECT_NE(all->left_out[0].second.find("revoked"), std::string::npos);
  EXPECT_EQ(store_.downloads.back().common_ids, std::vector<std::string>{"0570010099"});
  const std::string passwords = PasswordsText("comune:057001", *all, clock_.Now());
  EXPECT_NE(passwords.find("Non scaricati (non da installare):\r\n0570010001   serial 0a: the "
                           "certificate is revoked"),
            std::string::npos)
      << passwords;

  // Asked for by name, a revoked one is refused; with nothing left to hand out, so is "all".
  EXPECT_EQ(certificates_.Download("", {"0570010001"}, false, Alp()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  revoked_.insert("0b");
  absl::Status none = certificates_.Download("", {}, true, Alp()).status();
  EXPECT_EQ(none.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(none.message().find("no workstation certificate of comune:057001 may be handed out"),
            std::string::npos)
      << none;
  EXPECT_EQ(store_.downloads.size(), 1u);
}

TEST_F(WorkstationCertificatesTest, NothingLeavesUnlessTheDownloadIsRecorded) {
  // tessera-ca unreachable: nothing to hand out, nothing recorded.
  bundles_.erase("0b");
  absl::Status down = certificates_.Download("", {}, true, Alp()).status();
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(down.message().find("the bundle of 0570010099 at tessera-ca"), std::string::npos)
      << down;
  EXPECT_TRUE(store_.downloads.empty());

  // The audit record cannot be written: the bundles are not returned either.
  bundles_["0b"] = "p12 of 0099";
  store_.record_fails = absl::UnavailableError("postgres down");
  EXPECT_EQ(certificates_.Download("", {}, false, Alp()).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace tessera::registry
