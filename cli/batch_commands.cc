// tessera batch … and tessera lot …: the Ministry's issuance batches on tessera-perso, a live
// view of one, the print confirmation, and the sealed lots.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/common.h"
#include "platform/status_macros.h"
#include "proto/perso.grpc.pb.h"

namespace tessera::cli {
namespace {

absl::StatusOr<int64_t> BatchId(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(int id, ParseDigits(args.Get("ID"), 9, "ID: a batch number"));
  return id;
}

std::string StateName(v1::BatchState state) {
  switch (state) {
    case v1::BATCH_CREATED:
      return "created";
    case v1::BATCH_RUNNING:
      return "running";
    case v1::BATCH_PAUSED:
      return "paused";
    case v1::BATCH_CANCELLED:
      return "cancelled";
    case v1::BATCH_FINISHED:
      return "finished";
    default:
      return "?";
  }
}

std::string ReachText(const v1::BatchReach& reach) {
  std::string text = !reach.province_sigla().empty() ? "province " + reach.province_sigla()
                     : !reach.istat().empty()        ? "comune " + reach.istat()
                                                     : "every office";
  if (reach.orders_size() > 0) absl::StrAppend(&text, ", ", reach.orders_size(), " orders listed");
  return text;
}

nlohmann::json ToJson(const v1::Batch& b) {
  nlohmann::json readers = nlohmann::json::array();
  for (const v1::ReaderStatus& r : b.readers()) {
    readers.push_back({{"station", r.station()},
                       {"reader", r.reader()},
                       {"card_number", r.card_number()},
                       {"step", r.step()},
                       {"waiting_for", r.waiting_for()},
                       {"seconds_on_card", r.seconds_on_card()}});
  }
  return {{"id", b.id()},
          {"name", b.name()},
          {"reach",
           {{"province_sigla", b.reach().province_sigla()},
            {"istat", b.reach().istat()},
            {"orders",
             std::vector<std::string>(b.reach().orders().begin(), b.reach().orders().end())}}},
          {"state", StateName(b.state())},
          {"created_by", b.created_by()},
          {"created_at", b.created_at()},
          {"updated_at", b.updated_at()},
          {"cards_produced", b.cards_produced()},
          {"cards_failed", b.cards_failed()},
          {"workstations_produced", b.workstations_produced()},
          {"workstations_failed", b.workstations_failed()},
          {"open_orders", b.open_orders()},
          {"cards_per_second", b.cards_per_second()},
          {"eta_seconds", b.eta_seconds()},
          {"readers", readers},
          {"recent_failures",
           std::vector<std::string>(b.recent_failures().begin(), b.recent_failures().end())}};
}

std::string Duration(int64_t seconds) {
  if (seconds < 0) return "--:--";
  if (seconds >= 3600) {
    return absl::StrFormat("%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60);
  }
  return absl::StrFormat("%d:%02d", seconds / 60, seconds % 60);
}

// One line: where the batch stands.
std::string SummaryLine(const v1::Batch& b) {
  return absl::StrFormat(
      "batch %d \"%s\" (%s): %s, cards %d produced %d failed, workstations %d produced %d failed, "
      "%d open",
      b.id(), b.name(), ReachText(b.reach()), StateName(b.state()), b.cards_produced(),
      b.cards_failed(), b.workstations_produced(), b.workstations_failed(), b.open_orders());
}

// The progress view on a terminal: a bar, the rate and ETA, then a line per reader and the
// last failures.
std::string ProgressView(const v1::Batch& b) {
  const uint32_t done =
      b.cards_produced() + b.cards_failed() + b.workstations_produced() + b.workstations_failed();
  const uint32_t total = done + b.open_orders();
  const double fraction = total == 0 ? (b.state() == v1::BATCH_FINISHED ? 1.0 : 0.0)
                                     : static_cast<double>(done) / total;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth + 0.5);
  std::string view = absl::StrFormat(
      "batch %d \"%s\" %-9s [%s%s] %3d%%  %d/%d orders  %d failed  %.1f cards/s  ETA %s\n", b.id(),
      b.name(), StateName(b.state()), std::string(filled, '#'), std::string(kWidth - filled, '.'),
      static_cast<int>(fraction * 100 + 0.5), done, total,
      b.cards_failed() + b.workstations_failed(), b.cards_per_second(), Duration(b.eta_seconds()));
  for (const v1::ReaderStatus& r : b.readers()) {
    if (!r.waiting_for().empty()) {
      absl::StrAppend(&view, absl::StrFormat("  %s:%-2d  waiting: %s\n", r.station(), r.reader(),
                                             r.waiting_for()));
    } else if (!r.card_number().empty()) {
      absl::StrAppend(&view,
                      absl::StrFormat("  %s:%-2d  %-16s  %-11s %ds\n", r.station(), r.reader(),
                                      r.card_number(), r.step(), r.seconds_on_card()));
    } else {
      absl::StrAppend(&view, absl::StrFormat("  %s:%-2d  idle\n", r.station(), r.reader()));
    }
  }
  for (int i = 0; i < std::min(b.recent_failures_size(), 3); ++i) {
    absl::StrAppend(&view, "  failed ", b.recent_failures(i), "\n");
  }
  return view;
}

absl::Status ShowBatch(const Args& args, const v1::Batch& b) {
  Print(args, ToJson(b), args.json ? "" : SummaryLine(b));
  return absl::OkStatus();
}

absl::Status BatchCreate(const Args& args) {
  v1::CreateBatchRequest request;
  request.set_name(args.Get("name"));
  request.mutable_reach()->set_province_sigla(args.Get("province"));
  request.mutable_reach()->set_istat(args.Get("istat"));
  for (const std::string& order : args.All("order")) request.mutable_reach()->add_orders(order);
  request.set_request_id(RequestIdOf(args, "batch-create", request.SerializeAsString()));
  TESSERA_ASSIGN_OR_RETURN(auto perso, StubAt<v1::Personalization>(args));
  v1::Batch batch;
  {
    grpc::ClientContext context;
    TESSERA_RETURN_IF_ERROR(FromGrpc(perso->CreateBatch(&context, request, &batch)));
  }
  if (args.Has("run")) {
    v1::BatchChange run;
    run.set_id(batch.id());
    run.set_request_id(request.request_id() + "-run");
    grpc::ClientContext context;
    grpc::Status ran = perso->RunBatch(&context, run, &batch);
    // A retry of a create that ran before (and maybe finished since) leaves it as it is.
    if (!ran.ok() && ran.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
      return FromGrpc(ran);
    }
  }
  return ShowBatch(args, batch);
}

absl::Status BatchChange(const Args& args, const std::string& action) {
  TESSERA_ASSIGN_OR_RETURN(int64_t id, BatchId(args));
  v1::BatchChange request;
  request.set_id(id);
  request.set_request_id(NewRequestIdOf(args, "batch-" + action));
  TESSERA_ASSIGN_OR_RETURN(auto perso, StubAt<v1::Personalization>(args));
  grpc::ClientContext context;
  v1::Batch batch;
  grpc::Status status = action == "pause"    ? perso->PauseBatch(&context, request, &batch)
                        : action == "cancel" ? perso->CancelBatch(&context, request, &batch)
                                             : perso->RunBatch(&context, request, &batch);
  TESSERA_RETURN_IF_ERROR(FromGrpc(status));
  return ShowBatch(args, batch);
}

absl::Status BatchShow(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(int64_t id, BatchId(args));
  TESSERA_ASSIGN_OR_RETURN(auto perso, StubAt<v1::Personalization>(args));
  v1::GetBatchRequest request;
  request.set_id(id);
  grpc::ClientContext context;
  v1::Batch batch;
  TESSERA_RETURN_IF_ERROR(FromGrpc(perso->GetBatch(&context, request, &batch)));
  if (args.json) return ShowBatch(args, batch);
  std::fputs(ProgressView(batch).c_str(), stdout);
  return absl::OkStatus();
}

absl::Status BatchList(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(auto perso, StubAt<v1::Personalization>(args));
  v1::ListBatchesRequest request;
  request.set_include_ended(args.Has("all"));
  grpc::ClientContext context;
  v1::ListBatchesResponse response;
  TESSERA_RETURN_IF_ERROR(FromGrpc(perso->ListBatches(&context, request, &response)));
  nlohmann::json list = nlohmann::json::array();
  std::string text = absl::StrFormat("%-6s %-10s %-24s %-22s %8s %7s %7s", "id", "state", "name",
                                     "reach", "produced", "failed", "open");
  for (const v1::Batch& b : response.batches()) {
    list.push_back(ToJson(b));
    absl::StrAppend(
        &text, absl::StrFormat("\n%-6d %-10s %-24s %-22s %8d %7d %7d", b.id(), StateName(b.state()),
                               b.name().substr(0, 24), ReachText(b.reach()).substr(0, 22),
                               b.cards_produced() + b.workstations_produced(),
                               b.cards_failed() + b.workstations_failed(), b.open_orders()));
  }
  Print(args, {{"batches", list}}, text);
  return absl::OkStatus();
}

// Follows a batch until it is finished or cancelled: a live view on a terminal, a line when
// something changed (at most every 5 s) otherwise, a JSON object per update with --json; a
// summary at the end. Exit 0 when it finished without failures, 1 otherwise.
absl::Status BatchWatch(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(int64_t id, BatchId(args));
  TESSERA_ASSIGN_OR_RETURN(auto perso, StubAt<v1::Personalization>(args));
  v1::WatchBatchRequest request;
  request.set_id(id);
  request.set_interval_ms(args.json ? 2000 : 500);
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::Batch>> stream = perso->WatchBatch(&context, request);
  const bool live = !args.json && isatty(STDOUT_FILENO) == 1;
  int lines_shown = 0;
  std::string last_line;
  auto last_print = std::chrono::steady_clock::now() - std::chrono::hours(1);
  v1::Batch batch;
  bool seen = false;
  while (stream->Read(&batch)) {
    seen = true;
    if (args.json) {
      std::puts(ToJson(batch).dump().c_str());
      std::fflush(stdout);
      continue;
    }
    if (live) {
      const std::string view = ProgressView(batch);
      // Back to the first line of the previous view, and clear it away.
      if (lines_shown > 0) std::printf("\x1b[%dF\x1b[J", lines_shown);
      std::fputs(view.c_str(), stdout);
      std::fflush(stdout);
      lines_shown = static_cast<int>(std::count(view.begin(), view.end(), '\n'));
      continue;
    }
    const std::string line = SummaryLine(batch);
    const auto now = std::chrono::steady_clock::now();
    if (line != last_line && now - last_print >= std::chrono::seconds(5)) {
      std::puts(line.c_str());
      std::fflush(stdout);
      last_line = line;
      last_print = now;
    }
  }
  TESSERA_RETURN_IF_ERROR(FromGrpc(stream->Finish()));
  if (!seen) return absl::UnavailableError("tessera-perso sent nothing");
  if (!args.json) {
    std::printf("%s\n", SummaryLine(batch).c_str());
    for (const std::string& failure : batch.recent_failures()) {
      std::printf("  failed %s\n", failure.c_str());
    }
  }
  if (batch.state() == v1::BATCH_CANCELLED) {
    return absl::CancelledError(absl::StrCat("batch ", id, " was cancelled"));
  }
  if (batch.cards_failed() + batch.workstations_failed() > 0) {
    return absl::AbortedError(absl::StrCat("batch ", id, " finished with ",
                                           batch.cards_failed() + batch.workstations_failed(),
                                           " failed order(s)"));
  }
  return absl::OkStatus();
}

absl::Status BatchPrinted(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(int64_t id, BatchId(args));
  v1::BatchChange request;
  request.set_id(id);
  request.set_request_id(RequestIdOf(args, "batch-printed", std::to_string(id)));
  TESSERA_ASSIGN_OR_RETURN(auto perso, StubAt<v1::Personalization>(args));
  grpc::ClientContext context;
  v1::ConfirmPrintedResponse response;
  TESSERA_RETURN_IF_ERROR(FromGrpc(perso->ConfirmPrinted(&context, request, &response)));
  const std::vector<std::string> lots(response.lots().begin(), response.lots().end());
  Print(args, {{"batch", id}, {"lots", lots}},
        lots.empty() ? absl::StrCat("batch ", id, ": no envelope file left to destroy")
                     : absl::StrCat("batch ", id, ": envelope files of ", lots.size(),
                                    " lot(s) destroyed, envelope halves dropped"));
  return absl::OkStatus();
}

nlohmann::json ToJson(const v1::Lot& lot) {
  nlohmann::json cards = nlohmann::json::array();
  for (const v1::LotCard& c : lot.cards()) {
    cards.push_back({{"card_number", c.card_number()},
                     {"codice_fiscale", c.codice_fiscale()},
                     {"surname", c.surname()},
                     {"name", c.name()}});
  }
  return {{"lot_number", lot.lot_number()},
          {"batch_id", lot.batch_id()},
          {"office", lot.office()},
          {"office_name", lot.office_name()},
          {"prefettura", lot.prefettura()},
          {"sealed_at", lot.sealed_at()},
          {"cards_file", lot.cards_file()},
          {"envelopes_file", lot.envelopes_file()},
          {"printed", lot.printed()},
          {"handed_over", lot.handed_over()},
          {"cards", cards}};
}

absl::Status LotList(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(auto perso, StubAt<v1::Personalization>(args));
  v1::ListLotsRequest request;
  request.set_include_handed_over(args.Has("all"));
  grpc::ClientContext context;
  v1::ListLotsResponse response;
  TESSERA_RETURN_IF_ERROR(FromGrpc(perso->ListLots(&context, request, &response)));
  nlohmann::json list = nlohmann::json::array();
  std::string text = absl::StrFormat("%-10s %-6s %-28s %-10s %-8s %s", "lot", "batch", "office",
                                     "prefettura", "printed", "handed over");
  for (const v1::Lot& lot : response.lots()) {
    list.push_back(ToJson(lot));
    absl::StrAppend(
        &text, absl::StrFormat("\n%-10s %-6d %-28s %-10s %-8s %s", lot.lot_number(), lot.batch_id(),
                               lot.office_name().substr(0, 28),
                               lot.prefettura().empty() ? "-" : lot.prefettura(),
                               lot.printed() ? "yes" : "no", lot.handed_over() ? "yes" : "no"));
  }
  Print(args, {{"lots", list}}, text);
  return absl::OkStatus();
}

absl::Status LotShow(const Args& args) {
  TESSERA_ASSIGN_OR_RETURN(auto perso, StubAt<v1::Personalization>(args));
  v1::GetLotRequest request;
  request.set_lot_number(args.Get("LOT"));
  grpc::ClientContext context;
  v1::Lot lot;
  TESSERA_RETURN_IF_ERROR(FromGrpc(perso->GetLot(&context, request, &lot)));
  std::string text = absl::StrFormat(
      "lot %s of batch %d: %s, to the prefettura of %s; sealed %s\ncard faces: %s\nenvelopes: "
      "%s\n",
      lot.lot_number(), lot.batch_id(), lot.office_name(),
      lot.prefettura().empty() ? "- (the Ministry's own)" : lot.prefettura(), lot.sealed_at(),
      lot.cards_file(), lot.printed() ? "printed, file destroyed" : lot.envelopes_file());
  for (const v1::LotCard& c : lot.cards()) {
    absl::StrAppend(&text, absl::StrFormat("  %s  %s  %s %s\n", c.card_number(), c.codice_fiscale(),
                                           c.surname(), c.name()));
  }
  Print(args, ToJson(lot), text.substr(0, text.size() - 1));
  return absl::OkStatus();
}

}  // namespace

void AddBatchCommands(CLI::App& app) {
  CLI::App* batch = AddGroup(
      app, "batch", "issuance batches: cards and workstation bundles made by tessera-perso",
      ConnectsTo("tessera-perso"));

  CLI::App* create =
      AddCommand(*batch, "create", "a batch of a province's, a comune's or listed orders",
                 BatchCreate, "Without --run it waits in state created for `tessera batch run`.");
  create->add_option("--name", "a name for the operators' eyes")->type_name("TEXT")->required();
  CLI::Option_group* reach = create->add_option_group("reach");
  reach->add_option("--province", "a province's orders (its comuni's and its prefettura's)")
      ->type_name("SIGLA");
  reach->add_option("--istat", "one comune's orders (a prefettura: province code + 000)")
      ->type_name("N");
  reach->require_option(0, 1);
  create
      ->add_option("--order",
                   "only this order: a card number or workstation common id (repeatable)")
      ->type_name("ORDER")
      ->take_all();
  create->add_flag("--run")->description("run it at once");
  AddRequestId(*create);

  struct Act {
    const char* name;
    const char* action;
    const char* description;
  };
  for (const Act& act : {Act{"run", "run", "start a created batch, or resume a paused one"},
                         Act{"resume", "run", "resume a paused batch"},
                         Act{"pause", "pause", "stop starting new cards (those under way finish)"},
                         Act{"cancel", "cancel", "end a batch for good (its orders stay open)"}}) {
    const std::string action = act.action;
    CLI::App* command = AddCommand(*batch, act.name, act.description, [action](const Args& args) {
      return BatchChange(args, action);
    });
    command->add_option("ID", "the batch's number")->required();
  }

  CLI::App* show =
      AddCommand(*batch, "show", "a batch now: progress, readers, failures", BatchShow);
  show->add_option("ID", "the batch's number")->required();
  CLI::App* watch = AddCommand(
      *batch, "watch", "follow a batch to its end with a progress bar", BatchWatch,
      "Exit status 0 when it finished without failures, 1 when some orders failed or it was "
      "cancelled. On a terminal: a live view; otherwise a line when something changes; --json: "
      "an object per update.");
  watch->add_option("ID", "the batch's number")->required();
  CLI::App* list =
      AddCommand(*batch, "list", "batches under way (and ended ones with --all)", BatchList);
  list->add_flag("--all")->description("the latest 100 ended batches too");
  CLI::App* printed = AddCommand(
      *batch, "printed", "confirm the batch's envelope sheets printed", BatchPrinted,
      "Destroys the envelope files of the batch's lots (the only place the envelope halves were "
      "in clear) and drops their sealed envelope halves; recorded with who confirmed.");
  printed->add_option("ID", "the batch's number")->required();
  AddRequestId(*printed);

  CLI::App* lot = AddGroup(app, "lot", "sealed lots of produced cards, per ordering office",
                           ConnectsTo("tessera-perso"));
  CLI::App* lots = AddCommand(*lot, "list", "lots not yet handed over to dispatch", LotList);
  lots->add_flag("--all")->description("the latest 1000 lots, handed over or not");
  CLI::App* show_lot = AddCommand(*lot, "show", "a lot, its print files and its cards", LotShow);
  show_lot->add_option("LOT", "the lot's number")->required();
}

}  // namespace tessera::cli
