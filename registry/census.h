// What a comune or a prefettura declares in its census (docs/process.md, "The census"): its general
// data, its workstations and its users with their profiles. Every field is mandatory.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "access/office.h"

namespace tessera::registry {

struct CensusUser {
  std::string name;
  std::string surname;
  std::string codice_fiscale;  // stored normalized (upper case, no spaces or dashes)
  std::chrono::year_month_day birth_date{};
  std::string birth_place;            // comune or foreign state, as written
  std::string birth_province;         // sigla; "EE" for a foreign state
  std::string sex;                    // "M" or "F"
  std::string email;                  // personal mailbox, stored lower case
  std::vector<std::string> profiles;  // profile codes (see Profiles())
};

// Who a person is, the same for every census that names them (registry.persons): the first
// census to name a person records it, and every later one must agree with it.
struct PersonIdentity {
  std::string codice_fiscale;  // the spelling first recorded
  std::string surname;
  std::string name;
  std::chrono::year_month_day birth_date{};
  std::string birth_place;
  std::string birth_province;
  std::string sex;
};

// How to reach an office: what a comune's and a prefettura's census both declare.
struct Contacts {
  std::string address;
  std::string cap;    // 5 digits
  std::string phone;  // stored normalized (NormalizePhone)
  std::string fax;
  std::string email;  // the office's ordinary mailbox
  std::string pec;    // its certified mailbox
};

struct ComuneCensus {
  std::string istat;
  std::string name;
  Contacts contacts;
  std::string mayor_surname;
  std::string mayor_name;
  std::string it_supplier;        // società informatica di riferimento
  std::string registry_software;  // nome applicazione software
  std::string vat_number;         // partita IVA
  int workstations = 0;
  std::vector<CensusUser> users;
};

// What the comune declared earlier (its monitoring sheet) and its planned switch-over to ANPR:
// the limits its census is checked against.
struct ComuneDeclaration {
  int declared_workstations = 0;
  int declared_employees = 0;
  std::chrono::year_month_day switch_over{};
};

struct PrefetturaCensus {
  std::string province_sigla;
  std::string province;
  Contacts contacts;
  std::string prefect_surname;
  std::string prefect_name;
  int workstations = 0;
  std::vector<CensusUser> users;  // each gets a card
};

enum class CensusKind { kComune, kPrefettura };

// "comune" or "prefettura", as stored and logged.
const char* CensusKindName(CensusKind kind);
// The kind of census a comune or a prefettura keeps (not the Ministry, which has none).
CensusKind CensusKindOf(const access::Office& office);

// An office's 6-digit code, the first six characters of its workstations' CNs, card numbers
// and access codes: a comune's ISTAT code, or a prefettura's province code + "000" (no
// comune's ISTAT progressive is 000). `owner` is the census's owner (ISTAT or province code).
std::string OfficeCode(CensusKind kind, const std::string& owner);

// Whose census an office code names: the inverse of OfficeCode.
struct CensusOwner {
  CensusKind kind;
  std::string owner;
};
CensusOwner CensusOwnerOf(const std::string& office);

struct Profile {
  const char* code;   // stored and used in files: "accesso_web"
  const char* label;  // as the seeds' forms print it: "Accesso Web"
  CensusKind kind;
};

// Every profile a comune or a prefettura may give, in the forms' order.
const std::vector<Profile>& Profiles();

// The profile of `kind` a file names by its code, its label or another label the seeds use for
// it ("Sindaco", "Sindaco o Delegato" and "Sindaco/Delegato" are one profile), in any case and
// spacing; nullptr if none.
const Profile* ProfileNamed(std::string_view name, CensusKind kind);

inline constexpr char kAccessoWeb[] = "accesso_web";
inline constexpr char kSindacoDelegato[] = "sindaco_delegato";
inline constexpr char kAmministratoreSicurezza[] = "amministratore_sicurezza";
inline constexpr char kAmministratorePostazioni[] = "amministratore_postazioni";

// Whether a comune user gets a smart card: "Accesso Web" says so (seed 001 §4), and the
// Sindaco/Delegato, whose profile excludes every other, holds one too (seed 001 §6: "ciascun
// titolare, compreso il sindaco"). Every prefettura user gets one.
bool GetsCard(const CensusUser& user, CensusKind kind);

}  // namespace tessera::registry
