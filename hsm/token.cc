#include "hsm/token.h"

#include "platform/status_macros.h"

namespace tessera::hsm {

absl::StatusOr<std::shared_ptr<Token>> Token::Login(std::shared_ptr<Module> module,
                                                    std::string_view label, const Secret& user_pin,
                                                    std::optional<CK_SLOT_ID> in_slot) {
  TESSERA_ASSIGN_OR_RETURN(TokenInfo info, module->FindTokenByLabel(label, in_slot));
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Session> anchor, Session::Open(module, info.slot));
  TESSERA_RETURN_IF_ERROR(anchor->Login(CKU_USER, user_pin));
  return std::shared_ptr<Token>(new Token(std::move(module), std::move(info), std::move(anchor)));
}

Token::~Token() {
  {
    std::lock_guard lock(mutex_);
    idle_.clear();
  }
  (void)anchor_->Logout();
}

absl::StatusOr<Token::Lease> Token::Acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<Session> session = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(session));
    }
  }
  TESSERA_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Open(module_, info_.slot));
  return Lease(this, std::move(session));
}

void Token::Release(std::unique_ptr<Session> session) {
  if (session->failed()) return;  // a session that saw an error is closed, never reused
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(session));
}

Token::Lease::~Lease() {
  if (session_ != nullptr) token_->Release(std::move(session_));
}

}  // namespace tessera::hsm
