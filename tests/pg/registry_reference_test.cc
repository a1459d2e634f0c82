// Reference data: the shipped lists parse and load into real PostgreSQL, a new edition
// updates, ceases and revives rows, a second load of the same edition changes nothing, and
// bad files are refused naming file, line and column.
#include <gtest/gtest.h>

#include "platform/migrations.h"
#include "registry/pg_stores.h"
#include "registry/reference_data.h"
#include "tests/support/test_pg.h"

namespace tessera::registry {
namespace {

const std::filesystem::path kShipped =
    std::filesystem::path(TESSERA_SOURCE_DIR) / "deploy/reference";
constexpr char kComuniHeader[] =
    "istat,name,province_code,province_sigla,province_name,region,belfiore\n";
constexpr char kCodesHeader[] = "code,sigla,name,current\n";
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'790'000'000));

class ReferenceStoreTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    ASSERT_TRUE(pg::ApplyMigrations(*conn_, kPgSchema, PgMigrations()).ok());
    pool_ = std::make_unique<pg::ConnectionPool>(conninfo_, 2);
    store_ = std::make_unique<PgReferenceStore>(*pool_);
  }
  ReferenceLoadReport Load(const std::string& comuni, const std::string& codes = "") {
    auto data = ParseReferenceData(kComuniHeader + comuni, kCodesHeader + codes);
    EXPECT_TRUE(data.ok()) << data.status();
    auto report = store_->Load(*data, kNow, NextLoad());
    EXPECT_TRUE(report.ok()) << report.status();
    return report.value_or(ReferenceLoadReport{});
  }
  int64_t Count(const std::string& sql) { return conn_->Exec(sql)->Int(0, 0); }

  std::unique_ptr<pg::ConnectionPool> pool_;
  // A new load of the Ministry's (its own idempotency key).
  Request NextLoad() {
    return {.actor = {.kind = "service", .name = "tessera-cli"},
            .request_id = "load-" + std::to_string(++loads_)};
  }

  std::unique_ptr<PgReferenceStore> store_;
  int loads_ = 0;
};

TEST_F(ReferenceStoreTest, TheShippedListsLoadOnceAndAgainChangeNothing) {
  auto data = ReadReferenceData(kShipped);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->comuni.size(), 7896u);
  auto first = store_->Load(*data, kNow, NextLoad());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->comuni_added, 7896);
  EXPECT_EQ(first->provinces_added, 107);
  EXPECT_EQ(first->cadastral_codes, Count("SELECT count(*) FROM registry.codici_catastali"));
  EXPECT_GT(first->cadastral_codes, 13000);

  auto again = store_->Load(*data, kNow, NextLoad());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->comuni_added + again->comuni_changed + again->comuni_ceased, 0);
  EXPECT_EQ(again->provinces_added + again->provinces_changed + again->provinces_ceased, 0);

  auto roma = store_->FindComune("058091");
  ASSERT_TRUE(roma.ok() && roma->has_value()) << roma.status();
  EXPECT_EQ((*roma)->name, "Roma");
  EXPECT_EQ((*roma)->province_sigla, "RM");
  EXPECT_EQ((*roma)->belfiore, "H501");
  // A comune that changed code in 2024 keeps its old code for the people born there before.
  EXPECT_EQ(*store_->BirthplaceCodes("Sovizzo", "VI"), (std::vector<std::string>{"I879", "M436"}));
  EXPECT_EQ(*store_->BirthplaceCodes("Stati Uniti d'America", "EE"),
            (std::vector<std::string>{"Z404"}));
  EXPECT_EQ(*store_->BirthplaceCodes("sant'angelo lodigiano", "LO"),
            (std::vector<std::string>{"I274"}));
  EXPECT_TRUE(store_->BirthplaceCodes("Atlantide", "EE")->empty());
  // Bilingual names: the cadastral list has the Italian part.
  EXPECT_EQ(*store_->BirthplaceCodes("Aldino/Aldein", "BZ"), (std::vector<std::string>{"A179"}));
  // Every current comune, under its name in comuni.csv, is a birthplace the index knows.
  const ReferenceIndex index(*data);
  for (const Comune& c : data->comuni) {
    const auto codes = index.BirthplaceCodes(c.name, c.province_sigla);
    EXPECT_NE(std::find(codes.begin(), codes.end(), c.belfiore), codes.end())
        << c.istat << " " << c.name;
  }
  // One prefettura per province: 107 provinces with 7,896 live comuni between them.
  EXPECT_EQ(Count("SELECT count(DISTINCT province_code) FROM registry.comuni"), 107);
}

TEST_F(ReferenceStoreTest, ANewEditionUpdatesCeasesAndRevives) {
  Load(
      "058091,Roma,058,RM,Roma,Lazio,H501\n"
      "058001,Affile,058,RM,Roma,Lazio,A062\n"
      "015146,Milano,015,MI,Milano,Lombardia,F205\n");
  // Affile left the list, Milano renamed, a new comune.
  auto report = Load(
      "058091,Roma,058,RM,Roma,Lazio,H501\n"
      "015146,Milano City,015,MI,Milano,Lombardia,F205\n"
      "015999,Nuovo,015,MI,Milano,Lombardia,M999\n");
  EXPECT_EQ(report.comuni_added, 1);
  EXPECT_EQ(report.comuni_changed, 1);
  EXPECT_EQ(report.comuni_ceased, 1);
  EXPECT_FALSE(store_->FindComune("058001")->has_value());
  EXPECT_EQ(Count("SELECT count(*) FROM registry.comuni WHERE istat = '058001' AND ceased_at "
                  "IS NOT NULL"),
            1);  // kept, marked
  // Listed again: live again.
  report = Load(
      "058091,Roma,058,RM,Roma,Lazio,H501\n"
      "058001,Affile,058,RM,Roma,Lazio,A062\n");
  EXPECT_EQ(report.comuni_changed, 1);
  EXPECT_EQ(report.comuni_ceased, 2);
  EXPECT_EQ(report.provinces_ceased, 1);
  EXPECT_TRUE(store_->FindComune("058001")->has_value());
}

TEST(ReferenceData, BadRowsNameFileLineAndColumn) {
  auto error = [](const std::string& comuni, const std::string& codes = "") {
    auto data = ParseReferenceData(kComuniHeader + comuni, kCodesHeader + codes);
    EXPECT_EQ(data.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(data.status().message());
  };
  const std::string roma = "058091,Roma,058,RM,Roma,Lazio,H501\n";
  EXPECT_EQ(error("58091,Roma,058,RM,Roma,Lazio,H501\n"),
            "comuni.csv line 2, column istat: 6 digits");
  EXPECT_EQ(error(roma + "058091,Roma,058,RM,Roma,Lazio,H501\n"),
            "comuni.csv line 3, column istat: 058091 appears twice");
  EXPECT_EQ(error("058091,Roma,059,RM,Roma,Lazio,H501\n"),
            "comuni.csv line 2, column province_code: must be the ISTAT code's first 3 digits");
  EXPECT_EQ(error(roma + "058001,Affile,058,RM,Roma,Lazio,H501\n"),
            "comuni.csv line 3, column belfiore: H501 appears twice");
  EXPECT_EQ(error(roma + "058001,Affile,058,RO,Roma,Lazio,A062\n"),
            "comuni.csv line 3, column province_sigla: province 058 has another sigla or name "
            "above");
  EXPECT_EQ(error(roma + "059001,Aprilia,059,RM,Latina,Lazio,A341\n"),
            "comuni.csv line 3, column province_sigla: RM belongs to province 058 above");
  EXPECT_EQ(error("058091,Roma,058,RM,Roma,Lazio,501\n"),
            "comuni.csv line 2, column belfiore: a letter and 3 digits");
  EXPECT_EQ(error(roma, "Z404,EE,STATI UNITI,yes\n"),
            "codici_catastali.csv line 2, column current: 0 or 1");
  auto header = ParseReferenceData("istat;name\n", kCodesHeader);
  EXPECT_NE(std::string(header.status().message()).find("comuni.csv: header: the columns are"),
            std::string::npos)
      << header.status();
}

}  // namespace
}  // namespace tessera::registry
