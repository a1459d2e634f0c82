// A token this process is logged in to, with a pool of sessions: one session per concurrent
// operation (SoftHSM crashes when two threads share one). One anchor session stays open for
// the token's lifetime so the login, and the key handles found under it, stay valid.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "hsm/module.h"
#include "hsm/session.h"
#include "platform/secret.h"

namespace tessera::hsm {

class Token {
 public:
  // Finds the token by label (only in `in_slot`, if given) and logs the user in.
  static absl::StatusOr<std::shared_ptr<Token>> Login(std::shared_ptr<Module> module,
                                                      std::string_view label,
                                                      const Secret& user_pin,
                                                      std::optional<CK_SLOT_ID> in_slot = {});
  ~Token();
  Token(const Token&) = delete;
  Token& operator=(const Token&) = delete;

  // A session borrowed from the pool; returned on destruction unless it failed.
  class Lease {
   public:
    Lease(Token* token, std::unique_ptr<Session> session)
        : token_(token), session_(std::move(session)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = default;
    ~Lease();
    Session* operator->() const { return session_.get(); }
    Session& operator*() const { return *session_; }

   private:
    Token* token_;
    std::unique_ptr<Session> session_;
  };

  absl::StatusOr<Lease> Acquire();

  const TokenInfo& info() const { return info_; }
  const std::shared_ptr<Module>& module() const { return module_; }

 private:
  Token(std::shared_ptr<Module> module, TokenInfo info, std::unique_ptr<Session> anchor)
      : module_(std::move(module)), info_(std::move(info)), anchor_(std::move(anchor)) {}
  void Release(std::unique_ptr<Session> session);

  std::shared_ptr<Module> module_;
  TokenInfo info_;
  std::unique_ptr<Session> anchor_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Session>> idle_;
};

}  // namespace tessera::hsm
