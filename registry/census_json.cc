#include "registry/census_json.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "platform/clock.h"

namespace tessera::registry {
namespace {

using nlohmann::json;

json UserToJson(const CensusUser& u) {
  return {{"name", u.name},
          {"surname", u.surname},
          {"codice_fiscale", u.codice_fiscale},
          {"birth_date", u.birth_date.ok() ? IsoDate(u.birth_date) : ""},
          {"birth_place", u.birth_place},
          {"birth_province", u.birth_province},
          {"sex", u.sex},
          {"email", u.email},
          {"profiles", u.profiles}};
}

// Reads member `key` of `object` into `out`; the error names the member's path.
template <typename T>
absl::Status Member(const json& object, const std::string& path, const char* key, T& out) {
  auto it = object.find(key);
  if (it == object.end()) return absl::InvalidArgumentError(absl::StrCat(path, key, ": missing"));
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    return absl::InvalidArgumentError(absl::StrCat(path, key, ": wrong type"));
  }
  return absl::OkStatus();
}

#define TESSERA_MEMBER(object, path, key, out) \
  if (absl::Status st = Member(object, path, key, out); !st.ok()) return st

absl::StatusOr<std::vector<CensusUser>> UsersFromJson(const json& object) {
  std::vector<CensusUser> users;
  auto list = object.find("users");
  if (list == object.end() || !list->is_array()) {
    return absl::InvalidArgumentError("users: missing or not a list");
  }
  for (size_t i = 0; i < list->size(); ++i) {
    const json& u = (*list)[i];
    const std::string path = absl::StrCat("users[", i, "].");
    if (!u.is_object()) return absl::InvalidArgumentError(path + ": not an object");
    CensusUser user;
    std::string birth_date;
    TESSERA_MEMBER(u, path, "name", user.name);
    TESSERA_MEMBER(u, path, "surname", user.surname);
    TESSERA_MEMBER(u, path, "codice_fiscale", user.codice_fiscale);
    TESSERA_MEMBER(u, path, "birth_date", birth_date);
    TESSERA_MEMBER(u, path, "birth_place", user.birth_place);
    TESSERA_MEMBER(u, path, "birth_province", user.birth_province);
    TESSERA_MEMBER(u, path, "sex", user.sex);
    TESSERA_MEMBER(u, path, "email", user.email);
    TESSERA_MEMBER(u, path, "profiles", user.profiles);
    if (!birth_date.empty()) {
      absl::StatusOr<std::chrono::year_month_day> date = ParseIsoDate(birth_date);
      if (!date.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, "birth_date: ", date.status().message()));
      }
      user.birth_date = *date;
    }
    users.push_back(std::move(user));
  }
  return users;
}

// What both kinds of census have under the same names: contacts, workstations, users.
template <typename Census>
json SharedToJson(const Census& c) {
  json users = json::array();
  for (const CensusUser& u : c.users) users.push_back(UserToJson(u));
  return json{{"address", c.contacts.address},  {"cap", c.contacts.cap},
              {"phone", c.contacts.phone},      {"fax", c.contacts.fax},
              {"email", c.contacts.email},      {"pec", c.contacts.pec},
              {"workstations", c.workstations}, {"users", users}};
}

template <typename Census>
absl::Status SharedFromJson(const json& o, Census& c) {
  TESSERA_MEMBER(o, "", "address", c.contacts.address);
  TESSERA_MEMBER(o, "", "cap", c.contacts.cap);
  TESSERA_MEMBER(o, "", "phone", c.contacts.phone);
  TESSERA_MEMBER(o, "", "fax", c.contacts.fax);
  TESSERA_MEMBER(o, "", "email", c.contacts.email);
  TESSERA_MEMBER(o, "", "pec", c.contacts.pec);
  TESSERA_MEMBER(o, "", "workstations", c.workstations);
  absl::StatusOr<std::vector<CensusUser>> users = UsersFromJson(o);
  if (!users.ok()) return users.status();
  c.users = std::move(*users);
  return absl::OkStatus();
}

absl::StatusOr<json> Parse(const std::string& text) {
  try {
    json object = json::parse(text);
    if (!object.is_object()) return absl::InvalidArgumentError("census: not a JSON object");
    return object;
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("census: not JSON: ", e.what()));
  }
}

}  // namespace

std::string ComuneCensusToJson(const ComuneCensus& c) {
  json o = SharedToJson(c);
  o["istat"] = c.istat;
  o["name"] = c.name;
  o["mayor_surname"] = c.mayor_surname;
  o["mayor_name"] = c.mayor_name;
  o["it_supplier"] = c.it_supplier;
  o["registry_software"] = c.registry_software;
  o["vat_number"] = c.vat_number;
  return o.dump();
}

absl::StatusOr<ComuneCensus> ComuneCensusFromJson(const std::string& text) {
  absl::StatusOr<json> object = Parse(text);
  if (!object.ok()) return object.status();
  const json& o = *object;
  ComuneCensus c;
  TESSERA_MEMBER(o, "", "istat", c.istat);
  TESSERA_MEMBER(o, "", "name", c.name);
  TESSERA_MEMBER(o, "", "mayor_surname", c.mayor_surname);
  TESSERA_MEMBER(o, "", "mayor_name", c.mayor_name);
  TESSERA_MEMBER(o, "", "it_supplier", c.it_supplier);
  TESSERA_MEMBER(o, "", "registry_software", c.registry_software);
  TESSERA_MEMBER(o, "", "vat_number", c.vat_number);
  if (absl::Status st = SharedFromJson(o, c); !st.ok()) return st;
  return c;
}

std::string PrefetturaCensusToJson(const PrefetturaCensus& c) {
  json o = SharedToJson(c);
  o["province_sigla"] = c.province_sigla;
  o["province"] = c.province;
  o["prefect_surname"] = c.prefect_surname;
  o["prefect_name"] = c.prefect_name;
  return o.dump();
}

absl::StatusOr<PrefetturaCensus> PrefetturaCensusFromJson(const std::string& text) {
  absl::StatusOr<json> object = Parse(text);
  if (!object.ok()) return object.status();
  const json& o = *object;
  PrefetturaCensus c;
  TESSERA_MEMBER(o, "", "province_sigla", c.province_sigla);
  TESSERA_MEMBER(o, "", "province", c.province);
  TESSERA_MEMBER(o, "", "prefect_surname", c.prefect_surname);
  TESSERA_MEMBER(o, "", "prefect_name", c.prefect_name);
  if (absl::Status st = SharedFromJson(o, c); !st.ok()) return st;
  return c;
}

}  // namespace tessera::registry
