// The bulk census import: a spreadsheet export parsed and validated as a whole, every error
// on its line and column.
#include "registry/census_import.h"

#include <gtest/gtest.h>

#include "identity/codice_fiscale.h"

namespace tessera::registry {
namespace {

using std::chrono::year;

const std::string kHeader =
    "istat;comune;indirizzo;cap;telefono;fax;email;pec;cognome_sindaco;nome_sindaco;"
    "societa_informatica;applicazione_software;partita_iva;postazioni;nome;cognome;"
    "codice_fiscale;data_nascita;luogo_nascita;provincia_nascita;sesso;email_personale;profili\n";

// A correct codice fiscale for the person.
std::string Cf(const std::string& surname, const std::string& name, std::chrono::year_month_day d,
               identity::Sex sex, const std::string& place) {
  std::string cf = identity::SurnameCode(*identity::FoldName(surname)) +
                   identity::NameCode(*identity::FoldName(name)) + identity::BirthCode(d, sex) +
                   place;
  return cf + identity::CodiceFiscaleCheckCharacter(cf);
}

std::string GeneralData(const std::string& istat, const std::string& comune) {
  return istat + ";" + comune +
         ";Piazza del Comune 1;00100;06 1234567;06 7654321;info@comune.it;"
         "protocollo@pec.comune.it;Rossi;Mario;Informatica Spa;Anagrafe 3;02438750586;2;";
}

std::string UserRow(const std::string& istat, const std::string& comune, const std::string& name,
                    const std::string& surname, int day, const std::string& profiles) {
  const auto birth = year(1980) / 1 / day;
  return GeneralData(istat, comune) + name + ";" + surname + ";" +
         Cf(surname, name, birth, identity::Sex::kMale, "H501") + ";" + (day < 10 ? "0" : "") +
         std::to_string(day) + "/01/1980;Roma;RM;M;" + name + "." + surname + "@comune.it;" +
         profiles + "\n";
}

class CensusImportTest : public ::testing::Test {
 protected:
  CensusImportTest()
      : reference_(*ParseReferenceData(
            "istat,name,province_code,province_sigla,province_name,region,belfiore\n"
            "058091,Roma,058,RM,Roma,Lazio,H501\n058001,Affile,058,RM,Roma,Lazio,A062\n",
            "code,sigla,name,current\nH501,RM,ROMA,1\nA062,RM,AFFILE,1\n")),
        email_rules_(*mail::PersonalEmailRules::Parse("pec-domain pec.it\noffice protocollo\n")) {
    declarations_["058091"] = {2, 3, year(2027) / 1 / 10};
    declarations_["058001"] = {1, 2, year(2027) / 1 / 10};
  }
  std::vector<Violation> Import(const std::string& rows, ParsedImport* out = nullptr) {
    std::vector<Violation> errors;
    auto parsed = ParseCensusImport("\xEF\xBB\xBF" + kHeader + rows, errors);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    if (!parsed.ok()) return errors;
    ValidateImport(*parsed, reference_, declarations_, email_rules_, {}, today_, errors);
    if (out != nullptr) *out = std::move(*parsed);
    return errors;
  }
  static std::string All(const std::vector<Violation>& errors) {
    std::string all;
    for (const Violation& e : errors) all += FormatInFile(e) + "\n";
    return all;
  }

  ReferenceIndex reference_;
  mail::PersonalEmailRules email_rules_;
  std::map<std::string, ComuneDeclaration> declarations_;
  const std::chrono::year_month_day today_ = year(2026) / 11 / 23;
};

TEST_F(CensusImportTest, TwoComuniInOneFile) {
  ParsedImport parsed;
  auto errors = Import(
      UserRow("058091", "ROMA", "Mario", "Rossi", 1, "Sindaco/Delegato") +
          UserRow("058091", "ROMA", "Anna", "Verdi", 2, "Accesso Web|Operatore Consultazione") +
          UserRow("058001", "Affile", "Luca", "Neri", 3, "sindaco_delegato"),
      &parsed);
  EXPECT_TRUE(errors.empty()) << All(errors);
  ASSERT_EQ(parsed.censuses.size(), 2u);
  EXPECT_EQ(parsed.censuses[0].name, "Roma");  // as the reference list writes it
  EXPECT_EQ(parsed.censuses[0].users.size(), 2u);
  EXPECT_EQ(parsed.censuses[0].users[1].profiles,
            (std::vector<std::string>{"accesso_web", "operatore_consultazione"}));
  EXPECT_EQ(parsed.censuses[0].users[1].email, "anna.verdi@comune.it");
  EXPECT_EQ(parsed.user_lines[1], (std::vector<int>{4}));
}

TEST_F(CensusImportTest, EveryErrorIsNamedByLineAndColumn) {
  std::string bad_cf = UserRow("058091", "Roma", "Anna", "Verdi", 2, "Accesso Web");
  {
    // Another name's letters, with the check character recomputed: only the name is wrong.
    const size_t at = bad_cf.find("VRDNNA");
    std::string cf = "VRDNNB" + bad_cf.substr(at + 6, 9);
    cf += identity::CodiceFiscaleCheckCharacter(cf);
    bad_cf.replace(at, 16, cf);
  }
  std::string pec = UserRow("058091", "Roma", "Luca", "Neri", 3, "Accesso Web");
  pec.replace(pec.find("Luca.Neri@comune.it"), 19, "luca.neri@pec.it");
  std::string other_cap = UserRow("058091", "Roma", "Ugo", "Bassi", 4, "Operatore Estrazione");
  other_cap.replace(other_cap.find(";00100;"), 7, ";00199;");
  std::string bad_date = UserRow("058001", "Affile", "Eva", "Bruni", 5, "Sindaco/Delegato");
  bad_date.replace(bad_date.find("05/01/1980"), 10, "31/02/1980");
  std::string bad_profile = UserRow("058001", "Affile", "Ada", "Galli", 6, "Capo Ufficio");
  std::string unknown = UserRow("099999", "Atlantide", "Ivo", "Rota", 7, "Sindaco/Delegato");
  std::string as_number = UserRow("58001", "Affile", "Rita", "Pace", 8, "Sindaco/Delegato");
  const auto errors =
      Import(UserRow("058091", "Roma", "Mario", "Rossi", 1, "Sindaco/Delegato") + bad_cf + pec +
             other_cap + bad_date + bad_profile + unknown + as_number);
  const std::string all = All(errors);
  for (const char* expected : {
           "line 3, nome: does not match the codice fiscale (the code has 'NNB', 'Anna' gives "
           "'NNA')",
           "line 4, email_personale: 'luca.neri@pec.it' is a PEC (domain pec.it)",
           "line 5, cap: differs from line 2 for the same comune 058091",
           "line 6, data_nascita: '31/02/1980' does not exist",
           "line 7, profili: 'Capo Ufficio' is not a comune profile",
           "line 8, istat: '099999' is no comune in the reference list",
           "line 9, istat: '58001' is no comune in the reference list: an ISTAT code has 6 "
           "digits (did the spreadsheet drop a leading zero? keep the column as text)",
       }) {
    EXPECT_NE(all.find(expected), std::string::npos) << expected << "\nin:\n" << all;
  }
}

TEST_F(CensusImportTest, ABadWorkstationCountIsReportedOnceNotOnEveryRow) {
  std::string first = UserRow("058091", "Roma", "Mario", "Rossi", 1, "Sindaco/Delegato");
  std::string second = UserRow("058091", "Roma", "Anna", "Verdi", 2, "Accesso Web");
  first.replace(first.find(";02438750586;2;"), 15, ";02438750586;due;");
  second.replace(second.find(";02438750586;2;"), 15, ";02438750586;due;");
  const auto errors = Import(first + second);
  ASSERT_EQ(errors.size(), 1u) << All(errors);
  EXPECT_EQ(FormatInFile(errors[0]), "line 2, postazioni: a whole number of workstations");
}

TEST_F(CensusImportTest, OneBadRowAmongTenThousandIsFoundAndNamed) {
  declarations_["058091"] = {2, 20000, year(2027) / 1 / 10};
  std::string rows = UserRow("058091", "Roma", "Mario", "Rossi", 1, "Sindaco/Delegato");
  const std::string names[] = {"Anna", "Luca", "Ugo", "Eva", "Ada", "Ivo", "Lia", "Pia"};
  for (int i = 1; i < 10000; ++i) {
    // Distinct people: vary the surname letters through the day of birth and the name.
    std::string row =
        UserRow("058091", "Roma", names[i % 8], "Verdi", 1 + (i / 8) % 28, "Accesso Web");
    // Make each codice fiscale unique with a different year.
    const int y = 1940 + (i / 224) % 60;
    const std::string cf_old = row.substr(row.find(";VRD") + 1, 16);
    const std::string name = names[i % 8];
    const auto birth = year(y) / 1 / (1 + (i / 8) % 28);
    const std::string cf = Cf("Verdi", name, birth, identity::Sex::kMale, "H501");
    row.replace(row.find(cf_old), 16, cf);
    row.replace(row.find("/01/1980"), 8, "/01/" + std::to_string(y));
    if (i == 7776) row.replace(row.find(";M;"), 3, ";X;");  // line 7778
    rows += row;
  }
  const auto errors = Import(rows);
  ASSERT_EQ(errors.size(), 1u) << All(errors);
  EXPECT_EQ(FormatInFile(errors[0]), "line 7778, sesso: M or F");
}

TEST_F(CensusImportTest, FilesThatCannotBeReadAreRefusedWhole) {
  std::vector<Violation> errors;
  EXPECT_NE(std::string(ParseCensusImport("istat;comune\n1;2\n", errors).status().message())
                .find("header: the columns are istat;comune; expected istat;comune;indirizzo"),
            std::string::npos);
  const std::string row = UserRow("058091", "Roma", "Mario", "Rossi", 1, "Sindaco/Delegato");
  EXPECT_EQ(
      ParseCensusImport(kHeader + row.substr(0, 40) + ";\"unterminated", errors).status().message(),
      "line 2: a quoted field is not closed (is the file truncated?)");
  EXPECT_EQ(ParseCensusImport(kHeader + "Ross\xe8", errors).status().message(),
            "line 2: not UTF-8 (save the file as \"CSV UTF-8\")");
  EXPECT_EQ(ParseCensusImport(kHeader, errors).status().message(),
            "file: no rows after the header");
  EXPECT_EQ(ParseCensusImport(std::string(65 << 20, ' '), errors).status().message(),
            "file: 68157440 bytes, at most 67108864");
}

TEST_F(CensusImportTest, FormulasAndSqlInCellsAreJustBadValues) {
  std::string formula = UserRow("058091", "Roma", "Mario", "Rossi", 1, "Sindaco/Delegato");
  formula.replace(formula.find("Piazza del Comune 1"), 19, "=cmd|' /C calc'!A0");
  // A ';' in a cell comes quoted, as a spreadsheet saves it.
  std::string sql = UserRow("058001", "Affile", "Luca", "Neri", 3, "Sindaco/Delegato");
  sql.replace(sql.find(";Neri;"), 6, ";\"Neri'); DROP TABLE registry.persons;--\";");
  const std::string all = All(Import(formula + sql));
  EXPECT_NE(all.find("line 2, indirizzo: must not start with = + - or @"), std::string::npos)
      << all;
  EXPECT_NE(all.find("line 3, cognome: character ')' is not a letter, space, apostrophe, dot or "
                     "dash"),
            std::string::npos)
      << all;
}

}  // namespace
}  // namespace tessera::registry
