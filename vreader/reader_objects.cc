// Objects on the card: certificates and data objects written to it, key pairs made on it,
// searches, attributes and signatures.
#include <botan/system_rng.h>

#include <set>

#include "vreader/keys.h"
#include "vreader/reader.h"

namespace tessera::vreader {
namespace {

Attrs Defaults(CK_OBJECT_CLASS object_class) {
  Attrs attrs = {{CKA_TOKEN, BoolBytes(false)},      {CKA_PRIVATE, BoolBytes(false)},
                 {CKA_MODIFIABLE, BoolBytes(true)},  {CKA_COPYABLE, BoolBytes(true)},
                 {CKA_DESTROYABLE, BoolBytes(true)}, {CKA_LABEL, {}}};
  if (object_class == CKO_CERTIFICATE) {
    attrs.insert({{CKA_ID, {}},
                  {CKA_TRUSTED, BoolBytes(false)},
                  {CKA_CERTIFICATE_CATEGORY, UlongBytes(0)},
                  {CKA_SUBJECT, {}},
                  {CKA_ISSUER, {}},
                  {CKA_SERIAL_NUMBER, {}},
                  {CKA_START_DATE, {}},
                  {CKA_END_DATE, {}}});
  } else {
    attrs.insert({{CKA_APPLICATION, {}}, {CKA_OBJECT_ID, {}}, {CKA_VALUE, {}}});
  }
  return attrs;
}

// The card stores certificates and data objects; keys can only be made on it.
CK_RV CheckNewObject(const Attrs& tmpl) {
  const std::optional<CK_ULONG> object_class = GetUlong(tmpl, CKA_CLASS);
  if (!object_class) return CKR_TEMPLATE_INCOMPLETE;
  if (*object_class == CKO_CERTIFICATE) {
    const std::optional<CK_ULONG> type = GetUlong(tmpl, CKA_CERTIFICATE_TYPE);
    if (!type || !tmpl.contains(CKA_VALUE)) return CKR_TEMPLATE_INCOMPLETE;
    if (*type != CKC_X_509) return CKR_ATTRIBUTE_VALUE_INVALID;
    return CKR_OK;
  }
  return *object_class == CKO_DATA ? CKR_OK : CKR_ATTRIBUTE_VALUE_INVALID;
}

bool Settable(const Attrs& object, CK_ATTRIBUTE_TYPE type) {
  static const std::set<CK_ATTRIBUTE_TYPE> any = {CKA_LABEL, CKA_ID, CKA_SUBJECT, CKA_START_DATE,
                                                  CKA_END_DATE};
  static const std::set<CK_ATTRIBUTE_TYPE> stored = {CKA_APPLICATION, CKA_VALUE, CKA_OBJECT_ID,
                                                     CKA_ISSUER, CKA_SERIAL_NUMBER};
  const std::optional<CK_ULONG> object_class = GetUlong(object, CKA_CLASS);
  const bool is_stored = object_class == CKO_DATA || object_class == CKO_CERTIFICATE;
  return any.contains(type) || (is_stored && stored.contains(type));
}

}  // namespace

Object* VirtualReader::Visible(CardCall& call, CK_OBJECT_HANDLE handle) {
  auto it = call.slot.card.objects.find(handle);
  if (it == call.slot.card.objects.end()) return nullptr;
  // Private objects exist only for a logged-in user (PKCS#11 §4.4).
  if (it->second.is_private() && call.login != CKU_USER) return nullptr;
  return &it->second;
}

CK_RV VirtualReader::CreateObject(CK_SESSION_HANDLE session, const Attrs& tmpl,
                                  CK_OBJECT_HANDLE* out) {
  if (out == nullptr) return CKR_ARGUMENTS_BAD;
  return SessionCall(session, Cost::kApdu, [&](CardCall& call) {
    if (CK_RV rv = CheckNewObject(tmpl); rv != CKR_OK) return rv;
    Object object;
    object.attrs = Defaults(*GetUlong(tmpl, CKA_CLASS));
    for (const auto& [type, value] : tmpl) object.attrs[type] = value;
    const bool token = GetBool(object.attrs, CKA_TOKEN).value_or(false);
    if (token && !call.rw) return CKR_SESSION_READ_ONLY;
    if (object.is_private() && call.login != CKU_USER) return CKR_USER_NOT_LOGGED_IN;
    if (!token) object.session = call.session;
    const CK_OBJECT_HANDLE handle = NextObjectHandle();
    Card next = call.slot.card;
    next.objects.emplace(handle, std::move(object));
    if (CK_RV rv = Commit(call, std::move(next)); rv != CKR_OK) return rv;
    *out = handle;
    return CKR_OK;
  });
}

CK_RV VirtualReader::DestroyObject(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE handle) {
  return SessionCall(session, Cost::kApdu, [&](CardCall& call) {
    const Object* object = Visible(call, handle);
    if (object == nullptr) return CKR_OBJECT_HANDLE_INVALID;
    if (object->is_token() && !call.rw) return CKR_SESSION_READ_ONLY;
    if (!GetBool(object->attrs, CKA_DESTROYABLE).value_or(true)) return CKR_ACTION_PROHIBITED;
    Card next = call.slot.card;
    next.objects.erase(handle);
    return Commit(call, std::move(next));
  });
}

CK_RV VirtualReader::GetAttributeValue(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE handle,
                                       CK_ATTRIBUTE* tmpl, CK_ULONG count) {
  return SessionCall(session, Cost::kApdu, [&](CardCall& call) {
    const Object* object = Visible(call, handle);
    if (object == nullptr) return CKR_OBJECT_HANDLE_INVALID;
    return ReadAttributes(object->attrs, tmpl, count);
  });
}

CK_RV VirtualReader::SetAttributeValue(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE handle,
                                       const Attrs& tmpl) {
  return SessionCall(session, Cost::kApdu, [&](CardCall& call) {
    const Object* object = Visible(call, handle);
    if (object == nullptr) return CKR_OBJECT_HANDLE_INVALID;
    if (object->is_token() && !call.rw) return CKR_SESSION_READ_ONLY;
    if (!GetBool(object->attrs, CKA_MODIFIABLE).value_or(true)) return CKR_ACTION_PROHIBITED;
    for (const auto& [type, value] : tmpl) {
      if (!Settable(object->attrs, type)) return CKR_ATTRIBUTE_READ_ONLY;
    }
    Card next = call.slot.card;
    for (const auto& [type, value] : tmpl) next.objects[handle].attrs[type] = value;
    return Commit(call, std::move(next));
  });
}

CK_RV VirtualReader::FindObjectsInit(CK_SESSION_HANDLE session, const Attrs& match) {
  return SessionCall(session, Cost::kApdu, [&](CardCall& call) {
    std::vector<CK_OBJECT_HANDLE> found;
    for (const auto& [handle, object] : call.slot.card.objects) {
      if (Visible(call, handle) != nullptr && Matches(object.attrs, match)) {
        found.push_back(handle);
      }
    }
    CK_RV rv = CKR_OK;
    WithSession(call.session, [&](Session& s) {
      if (s.found) {
        rv = CKR_OPERATION_ACTIVE;
      } else {
        s.found =
            std::vector<CK_OBJECT_HANDLE>(found.rbegin(), found.rend());  // popped from the back
      }
    });
    return rv;
  });
}

CK_RV VirtualReader::FindObjects(CK_SESSION_HANDLE handle, CK_OBJECT_HANDLE* out, CK_ULONG max,
                                 CK_ULONG* count) {
  if (out == nullptr || count == nullptr) return CKR_ARGUMENTS_BAD;
  std::lock_guard lock(mu_);
  Session* session = nullptr;
  if (CK_RV rv = LiveSession(handle, session); rv != CKR_OK) return rv;
  if (!session->found) return CKR_OPERATION_NOT_INITIALIZED;
  std::vector<CK_OBJECT_HANDLE>& found = *session->found;
  *count = 0;
  while (*count < max && !found.empty()) {
    out[(*count)++] = found.back();
    found.pop_back();
  }
  return CKR_OK;
}

CK_RV VirtualReader::FindObjectsFinal(CK_SESSION_HANDLE handle) {
  std::lock_guard lock(mu_);
  Session* session = nullptr;
  if (CK_RV rv = LiveSession(handle, session); rv != CKR_OK) return rv;
  if (!session->found) return CKR_OPERATION_NOT_INITIALIZED;
  session->found.reset();
  return CKR_OK;
}

CK_RV VirtualReader::GenerateKeyPair(CK_SESSION_HANDLE session, CK_MECHANISM_TYPE mechanism,
                                     const Attrs& pub_template, const Attrs& priv_template,
                                     CK_OBJECT_HANDLE* pub_out, CK_OBJECT_HANDLE* priv_out) {
  if (pub_out == nullptr || priv_out == nullptr) return CKR_ARGUMENTS_BAD;
  return SessionCall(session, Cost::kKeyGen, [&](CardCall& call) {
    // A card makes keys only for its holder.
    if (call.login != CKU_USER) return CKR_USER_NOT_LOGGED_IN;
    Object pub, priv;
    if (CK_RV rv = vreader::GenerateKeyPair(mechanism, pub_template, priv_template, pub, priv);
        rv != CKR_OK) {
      return rv;
    }
    Card next = call.slot.card;
    CK_OBJECT_HANDLE handles[2];
    Object* objects[2] = {&pub, &priv};
    for (int i = 0; i < 2; ++i) {
      const bool token = GetBool(objects[i]->attrs, CKA_TOKEN).value_or(false);
      if (token && !call.rw) return CKR_SESSION_READ_ONLY;
      if (!token) objects[i]->session = call.session;
      handles[i] = NextObjectHandle();
      next.objects.emplace(handles[i], std::move(*objects[i]));
    }
    if (CK_RV rv = Commit(call, std::move(next)); rv != CKR_OK) return rv;
    *pub_out = handles[0];
    *priv_out = handles[1];
    return CKR_OK;
  });
}

CK_RV VirtualReader::SignInit(CK_SESSION_HANDLE session, CK_MECHANISM_TYPE mechanism,
                              CK_OBJECT_HANDLE key) {
  return SessionCall(session, Cost::kApdu, [&](CardCall& call) {
    auto it = call.slot.card.objects.find(key);
    if (it == call.slot.card.objects.end()) return CKR_KEY_HANDLE_INVALID;
    if (it->second.is_private() && call.login != CKU_USER) return CKR_USER_NOT_LOGGED_IN;
    CK_ULONG length = 0;
    if (CK_RV rv = CheckSignKey(it->second, mechanism, length); rv != CKR_OK) return rv;
    CK_RV rv = CKR_OK;
    WithSession(call.session, [&](Session& s) {
      if (s.signing) {
        rv = CKR_OPERATION_ACTIVE;
        return;
      }
      s.signing = true;
      s.sign_mechanism = mechanism;
      s.sign_key = key;
      s.sign_len = length;
    });
    return rv;
  });
}

CK_RV VirtualReader::Sign(CK_SESSION_HANDLE handle, const Bytes& data, CK_BYTE* signature,
                          CK_ULONG* signature_len) {
  return FinishSign(handle, &data, signature, signature_len);
}

CK_RV VirtualReader::SignUpdate(CK_SESSION_HANDLE handle, const Bytes& part) {
  std::lock_guard lock(mu_);
  Session* session = nullptr;
  if (CK_RV rv = LiveSession(handle, session); rv != CKR_OK) return rv;
  if (!session->signing) return CKR_OPERATION_NOT_INITIALIZED;
  session->sign_data.insert(session->sign_data.end(), part.begin(), part.end());
  return CKR_OK;
}

CK_RV VirtualReader::SignFinal(CK_SESSION_HANDLE handle, CK_BYTE* signature,
                               CK_ULONG* signature_len) {
  return FinishSign(handle, nullptr, signature, signature_len);
}

CK_RV VirtualReader::FinishSign(CK_SESSION_HANDLE handle, const Bytes* data, CK_BYTE* signature,
                                CK_ULONG* signature_len) {
  if (signature_len == nullptr) return CKR_ARGUMENTS_BAD;
  CK_MECHANISM_TYPE mechanism = 0;
  CK_OBJECT_HANDLE key = 0;
  Bytes input;
  {
    // A length query or a short buffer is answered here and leaves the operation active.
    std::lock_guard lock(mu_);
    Session* session = nullptr;
    if (CK_RV rv = LiveSession(handle, session); rv != CKR_OK) return rv;
    if (!session->signing) return CKR_OPERATION_NOT_INITIALIZED;
    const CK_ULONG needed = session->sign_len;
    const bool short_buffer = signature != nullptr && *signature_len < needed;
    if (signature == nullptr || short_buffer) {
      *signature_len = needed;
      return short_buffer ? CKR_BUFFER_TOO_SMALL : CKR_OK;
    }
    mechanism = session->sign_mechanism;
    key = session->sign_key;
    input = data != nullptr ? *data : session->sign_data;
  }
  const CK_RV rv = SessionCall(handle, Cost::kApdu, [&](CardCall& call) {
    auto it = call.slot.card.objects.find(key);
    if (it == call.slot.card.objects.end()) return CKR_KEY_HANDLE_INVALID;
    if (it->second.is_private() && call.login != CKU_USER) return CKR_USER_NOT_LOGGED_IN;
    Bytes out;
    if (CK_RV sign_rv = vreader::Sign(it->second, mechanism, input, out); sign_rv != CKR_OK) {
      return sign_rv;
    }
    std::copy(out.begin(), out.end(), signature);
    *signature_len = out.size();
    return CKR_OK;
  });
  WithSession(handle, [](Session& s) {  // done, whatever the outcome
    s.signing = false;
    s.sign_data.clear();
  });
  return rv;
}

CK_RV VirtualReader::GenerateRandom(CK_SESSION_HANDLE session, CK_BYTE* out, CK_ULONG len) {
  if (out == nullptr && len > 0) return CKR_ARGUMENTS_BAD;
  return SessionCall(session, Cost::kApdu, [&](CardCall&) {
    Botan::system_rng().randomize(out, len);
    return CKR_OK;
  });
}

}  // namespace tessera::vreader
