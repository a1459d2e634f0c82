// The temporary daily password's rules with an injected clock (registry/daily_access.h), over
// in-memory stores: who may authorize whom, a password good only on its Italian day (right up
// to midnight in Rome, not a second after), a new one each day while authorized and none after,
// the lock-outs against guessing, and a session that ends with the day.
#include "registry/daily_access.h"

#include <botan/ecdsa.h>
#include <botan/x509_key.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "absl/strings/match.h"
#include "access/daily_password.h"
#include "platform/random.h"
#include "platform/revocation.h"
#include "registry/census.h"

namespace tessera::registry {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_days;

constexpr char kOperator[] = "RSSMRA85T10H501O";  // a user of Accumoli whose card is out
constexpr char kAdministrator[] = "RCCGLI72M42G157D";
constexpr char kAccumoli[] = "comune:057001";

// Every mail sealed as it is stored, "sealed" here by keeping the body as it is.
class MemoryDailyStore final : public DailyAccessStore {
 public:
  absl::StatusOr<std::string> MailboxAt(const std::string& cf,
                                        const access::Office& office) override {
    return cf == kOperator && office.Text() == kAccumoli ? "mario.rossi@example.it" : "";
  }
  absl::Status Grant(const DailyGrant& grant, const DayPassword& today, const OutboxMail& mail,
                     const Request& request) override {
    if (!request_ids.insert(request.request_id).second) {
      return absl::AlreadyExistsError("request_id: used");
    }
    grants[{grant.codice_fiscale, grant.office}] = grant;
    passwords[{grant.codice_fiscale, grant.office, IsoDate(today.day)}] = today;
    outbox.push_back(mail);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Due>> DueOn(std::chrono::year_month_day today) override {
    std::vector<Due> due;
    for (const auto& [key, grant] : grants) {
      if (sys_days(grant.until) >= sys_days(today) &&
          !passwords.contains({key.first, key.second, IsoDate(today)})) {
        due.push_back({key.first, key.second, "mario.rossi@example.it"});
      }
    }
    return due;
  }
  absl::Status Issue(const Due& due, const DayPassword& password, const OutboxMail& mail) override {
    if (passwords
            .emplace(std::tuple{due.codice_fiscale, due.office, IsoDate(password.day)}, password)
            .second) {
      outbox.push_back(mail);
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<DayPassword>> PasswordOn(
      const std::string& cf, const access::Office& office,
      std::chrono::year_month_day today) override {
    auto grant = grants.find({cf, office.Text()});
    if (grant == grants.end() || sys_days(grant->second.until) < sys_days(today)) {
      return std::nullopt;
    }
    auto it = passwords.find({cf, office.Text(), IsoDate(today)});
    if (it == passwords.end()) return std::nullopt;
    return it->second;
  }
  absl::Status RecordAttempt(const std::string& cf, const std::string& machine, bool succeeded,
                             std::chrono::system_clock::time_point at) override {
    if (!succeeded) failures.push_back({cf, machine, at});
    return absl::OkStatus();
  }
  absl::StatusOr<Failures> FailuresSince(
      const std::string& cf, const std::string& machine,
      std::chrono::system_clock::time_point person_since,
      std::chrono::system_clock::time_point machine_since) override {
    Failures counted;
    for (const auto& [who, where, at] : failures) {
      if (who == cf && at >= person_since) {
        if (counted.person++ == 0) counted.person_oldest = at;
      }
      if (where == machine && at >= machine_since) {
        if (counted.machine++ == 0) counted.machine_oldest = at;
      }
    }
    return counted;
  }

  std::set<std::string> request_ids;
  std::map<std::pair<std::string, std::string>, DailyGrant> grants;
  std::map<std::tuple<std::string, std::string, std::string>, DayPassword> passwords;
  std::vector<OutboxMail> outbox;
  std::vector<std::tuple<std::string, std::string, std::chrono::system_clock::time_point>> failures;
};

// The person on record: an Accumoli user with a live card; sessions kept in memory.
class MemoryLoginStore final : public LoginStore {
 public:
  absl::Status PutChallenge(const LoginChallenge&) override { return absl::OkStatus(); }
  absl::StatusOr<LoginChallenge> TakeChallenge(const std::string&,
                                               std::chrono::system_clock::time_point) override {
    return absl::NotFoundError("none");
  }
  absl::StatusOr<LoginStanding> StandingOf(const std::string& cf,
                                           const access::Office& office) override {
    LoginStanding standing;
    standing.known = cf == kOperator || cf == kAdministrator;
    standing.codice_fiscale = cf;
    if (standing.known && office.Text() == kAccumoli) standing.profiles = {kAccessoWeb};
    return standing;
  }
  absl::StatusOr<std::optional<OfficeUser>> UserAt(const std::string&,
                                                   const access::Office&) override {
    return std::nullopt;
  }
  absl::Status OpenSession(const SessionRecord& session) override {
    sessions.push_back(session);
    return absl::OkStatus();
  }
  absl::StatusOr<SessionRecord> GetSession(const std::string&) override {
    return absl::NotFoundError("none");
  }
  absl::Status ExtendSession(const std::string&, std::chrono::system_clock::time_point) override {
    return absl::OkStatus();
  }
  absl::StatusOr<bool> EndSession(const std::string&, const std::string&,
                                  std::chrono::system_clock::time_point) override {
    return false;
  }
  absl::StatusOr<int> EndSessionsOf(const std::string&, const std::string&, const std::string&,
                                    std::chrono::system_clock::time_point) override {
    return 0;
  }
  absl::StatusOr<std::vector<SessionRecord>> LiveCardSessions(
      std::chrono::system_clock::time_point) override {
    return std::vector<SessionRecord>{};
  }
  absl::StatusOr<bool> MinistryOperatorLoggedIn() override { return false; }
  absl::StatusOr<access::SessionState> EndedSince(int64_t,
                                                  std::chrono::system_clock::time_point) override {
    return access::SessionState{};
  }

  std::vector<SessionRecord> sessions;
};

class NoRevocation final : public RevocationCheck {
 public:
  absl::Status Check(const Principal&) override { return absl::OkStatus(); }
  bool MayBlock() const override { return false; }
  absl::Status Health() const override { return absl::OkStatus(); }
};

// 2026-03-28 23:00 UTC: midnight in Rome, in winter time; the clocks go forward that night.
Clock::TimePoint RomeMidnight() { return sys_days(std::chrono::year{2026} / 3 / 29) - hours(1); }

class DailyAccessTest : public ::testing::Test {
 protected:
  DailyAccessTest()
      : clock_(RomeMidnight() - hours(10)),  // 14:00 in Rome, 28 March
        key_(ThreadRng(), Botan::EC_Group("secp256r1")),
        trust_(std::vector<TrustedIssuer>{}),
        login_(logins_, trust_, revocation_, {&key_, "k", Botan::X509::PEM_encode(key_)}, clock_),
        daily_(
            store_, logins_, login_,
            [](std::string_view body) { return std::vector<uint8_t>(body.begin(), body.end()); },
            clock_) {}

  static Principal At(const std::string& office, const std::string& person,
                      std::vector<std::string> profiles) {
    Principal caller{PrincipalKind::kWorkstation, "0570010001"};
    caller.session =
        PersonSession{.id = "s", .person = person, .office = office, .profiles = profiles};
    return caller;
  }
  // The request of an authorization, as the handler makes it (RequestOf).
  static Request Req(const std::string& id) {
    return {.actor = {.kind = "workstation", .name = "0570010001"}, .request_id = id};
  }
  static Machine Workstation(const std::string& name = "0570010002") {
    return {{PrincipalKind::kWorkstation, name}, std::string(64, 'a')};
  }
  // The password in the last mail (its body, unsealed by the test's sealer).
  Secret LastPassword() const {
    const std::vector<uint8_t>& body = store_.outbox.back().sealed_body;
    const std::string text(body.begin(), body.end());
    const size_t start = text.find("\n\n") + 2;
    return Secret(text.substr(start, text.find('\n', start) - start));
  }

  FakeClock clock_;
  Botan::ECDSA_PrivateKey key_;
  ClientTrust trust_;
  NoRevocation revocation_;
  MemoryLoginStore logins_;
  MemoryDailyStore store_;
  CardLogin login_;
  DailyAccess daily_;
  int requests_ = 0;
};

TEST_F(DailyAccessTest, OnlyTheOfficesAdministratorAuthorizesItsUsers) {
  const Principal administrator = At(kAccumoli, kAdministrator, {kAmministratoreSicurezza});
  auto authorize = [this](const Principal& caller, const std::string& cf,
                          const std::string& until = "2026-04-10") {
    return daily_
        .Authorize(cf, "", until, "carta smarrita", Req("r-" + std::to_string(++requests_)), caller)
        .status();
  };
  EXPECT_EQ(authorize(At(kAccumoli, kAdministrator, {kAccessoWeb}), kOperator).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(
      authorize(At("comune:057002", kAdministrator, {kAmministratoreSicurezza}), kOperator).code(),
      absl::StatusCode::kNotFound);  // no user of Amatrice
  EXPECT_EQ(authorize(administrator, kAdministrator).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(authorize(administrator, kOperator, "2026-03-27").code(),
            absl::StatusCode::kInvalidArgument);  // yesterday
  EXPECT_EQ(authorize(administrator, kOperator, "2026-05-01").code(),
            absl::StatusCode::kInvalidArgument);  // beyond 30 days
  EXPECT_EQ(authorize(administrator, "RSSMRA85T10H501X").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_.outbox.empty());
  // The mayor acts for an administrator whose card is out.
  EXPECT_TRUE(authorize(At(kAccumoli, kAdministrator, {kSindacoDelegato}), kOperator).ok());
  ASSERT_EQ(store_.outbox.size(), 1u);
  EXPECT_EQ(store_.outbox[0].to, "mario.rossi@example.it");
}

TEST_F(DailyAccessTest, APasswordIsGoodUntilMidnightInRomeAndANewOneComesEachDay) {
  const Principal administrator = At(kAccumoli, kAdministrator, {kAmministratoreSicurezza});
  auto authorized =
      daily_.Authorize(kOperator, "", "2026-03-29", "carta guasta", Req("r1"), administrator);
  ASSERT_TRUE(authorized.ok()) << authorized.status();
  EXPECT_EQ(authorized->first_password_expires_at, RomeMidnight());
  const Secret first = LastPassword();
  EXPECT_EQ(first.view().size(), access::kDailyPasswordLength);

  auto login = daily_.Login(kOperator, first, Workstation());
  ASSERT_TRUE(login.ok()) << login.status();
  EXPECT_EQ(login->session.office, kAccumoli);
  EXPECT_EQ(login->session.method, "daily_password");
  EXPECT_EQ(login->session.profiles, std::vector<std::string>{kAccessoWeb});
  // A session at 23:50 ends at midnight, not 30 minutes later.
  clock_.Set(RomeMidnight() - minutes(10));
  login = daily_.Login(kOperator, first, Workstation());
  ASSERT_TRUE(login.ok()) << login.status();
  EXPECT_EQ(login->session.expires_at, RomeMidnight());
  clock_.Set(RomeMidnight() - seconds(1));
  EXPECT_TRUE(daily_.Login(kOperator, first, Workstation()).ok());

  // Midnight: yesterday's password is worth nothing, before and after the day's is made.
  clock_.Set(RomeMidnight());
  EXPECT_EQ(daily_.Login(kOperator, first, Workstation()).status().code(),
            absl::StatusCode::kUnauthenticated);
  ASSERT_EQ(daily_.IssueDue().value_or(-1), 1);
  EXPECT_EQ(daily_.IssueDue().value_or(-1), 0);  // once a day
  const Secret second = LastPassword();
  EXPECT_NE(second.view(), first.view());
  EXPECT_EQ(daily_.Login(kOperator, first, Workstation()).status().code(),
            absl::StatusCode::kUnauthenticated);
  login = daily_.Login(kOperator, second, Workstation());
  ASSERT_TRUE(login.ok()) << login.status();
  // The 29th is a 23-hour day in Rome: it ends at 22:00 UTC.
  EXPECT_EQ(store_.passwords.rbegin()->second.expires_at, RomeMidnight() + hours(23));

  // The grant ended with the 29th: no password on the 30th.
  clock_.Set(RomeMidnight() + hours(23) + minutes(1));
  EXPECT_EQ(daily_.IssueDue().value_or(-1), 0);
  EXPECT_EQ(daily_.Login(kOperator, second, Workstation()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(store_.outbox.size(), 2u);
}

TEST_F(DailyAccessTest, GuessingLocksThePersonAndTheMachineOut) {
  ASSERT_TRUE(daily_
                  .Authorize(kOperator, "", "2026-04-01", "carta rubata", Req("r1"),
                             At(kAccumoli, kAdministrator, {kAmministratoreSicurezza}))
                  .ok());
  const Secret right = LastPassword();
  int refused = 0, locked = 0;
  for (int i = 0; i < 1000; ++i) {
    const absl::Status status =
        daily_.Login(kOperator, Secret("WRONG" + std::to_string(i)), Workstation()).status();
    refused += status.code() == absl::StatusCode::kUnauthenticated;
    locked += status.code() == absl::StatusCode::kResourceExhausted;
    clock_.Advance(seconds(1));
  }
  // 5 compared in each 15-minute window (1000 s: two windows), every other try refused unseen.
  EXPECT_EQ(refused, 10);
  EXPECT_EQ(locked, 990);
  // While locked, even the right password is refused; after the window it works again.
  const absl::Status still = daily_.Login(kOperator, right, Workstation()).status();
  EXPECT_EQ(still.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(still.message().find("locked until"), absl::string_view::npos);
  clock_.Advance(minutes(16));
  EXPECT_TRUE(daily_.Login(kOperator, right, Workstation()).ok());

  // One machine trying several codici fiscali, each under its own limit, is locked out at 20
  // failures within the hour.
  int wrong = 0, machine_locked = 0;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 4; ++i) {
      for (const char* cf : {kAdministrator, kOperator}) {
        const absl::Status status =
            daily_.Login(cf, Secret("x"), Workstation("0570010009")).status();
        wrong += status.code() == absl::StatusCode::kUnauthenticated;
        machine_locked += status.code() == absl::StatusCode::kResourceExhausted &&
                          absl::StartsWith(status.message(), "this machine");
      }
    }
    clock_.Advance(minutes(16));
  }
  EXPECT_EQ(wrong, 20);
  EXPECT_EQ(machine_locked, 4);
  EXPECT_EQ(daily_.Login(kOperator, right, Workstation("0570010009")).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(daily_.Login(kOperator, right, Workstation()).ok());
}

}  // namespace
}  // namespace tessera::registry
