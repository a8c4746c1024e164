#include "parking.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <type_traits>
#include <variant>

namespace ledgerq::transport {
namespace {

std::string_view datasource_of(const domain::Notice& n) {
  if (const auto* s = std::get_if<StatusNotice>(&n)) return s->datasource;
  return std::get<RequestEntry>(n).datasource;
}

}  // namespace

void Parking::run(domain::View& view, const domain::Context& ctx, std::vector<Pending>& batch,
                  std::vector<domain::Notice>& notices) {
  done_.clear();
  const bool waiting = !parked_.empty() || std::any_of(batch.begin(), batch.end(), [](const Pending& p) { return p.park; });
  if (!waiting) return;
  // Which datasources changed: what published something, and the changes
  // that publish nothing but matter to a waiting dequeue (a job a delete
  // brings forward, new options, a datasource gone: 404).
  Touched touched;
  for (const auto& n : notices) touched.emplace(datasource_of(n));
  for (const auto& p : batch)
    if (p.command && p.reply.code == Code::ok)
      std::visit(
          [&](const auto& c) {
            using C = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<C, cmd::Delete> || std::is_same_v<C, cmd::DsConfigure> ||
                          std::is_same_v<C, cmd::DsDelete>)
              touched.emplace(c.datasource);
          },
          *p.command);

  for (auto it = parked_.begin(); it != parked_.end(); ++it)
    if (rerun(view, *it, ctx, touched, notices)) done_.push_back(it);

  // A dequeue that found nothing may have been followed, in this same
  // batch, by a submit to its datasource: try it once more before it waits.
  for (auto& p : batch) {
    if (!p.park) continue;
    auto dq = std::get<cmd::Dequeue>(*p.command);
    if (!touched.count(dq.datasource)) continue;
    dq.acks.clear();  // applied already
    auto out = domain::execute(view, Command{dq}, ctx);
    for (auto& n : out.notices) notices.push_back(std::move(n));
    if (out.park) p.wake_at = out.wake_at;  // a job of this batch may be due later
    if (out.park) continue;
    if (!out.reply.ok()) {  // its datasource was deleted later in this batch: 404 now
      p.reply = to_reply(p.reply.rid, std::move(out.reply));
      p.park = false;
      continue;
    }
    auto acks = std::move(std::get<reply::Dequeue>(p.reply.body).acks);
    p.reply = to_reply(p.reply.rid, std::move(out.reply));
    std::get<reply::Dequeue>(p.reply.body).acks = std::move(acks);
    p.park = false;
  }
}

// Runs a parked dequeue again if something may have changed for it.
// Returns true when it is answered: it found jobs, failed, or its time is up.
bool Parking::rerun(domain::View& view, Parked& q, const domain::Context& ctx, const Touched& touched,
                    std::vector<domain::Notice>& notices) {
  if (q.gone) {
    reply::Dequeue empty;
    empty.acks = q.acks;  // copied: the turn may yet be aborted and applied again
    q.p.reply = Reply{q.p.reply.rid, Code::ok, {}, std::move(empty)};
    return true;
  }
  const bool due = touched.count(q.dequeue.datasource) || (q.p.wake_at && q.p.wake_at <= ctx.now) ||
                   q.deadline <= ctx.now;
  if (!due) return false;
  auto out = domain::execute(view, Command{q.dequeue}, ctx);
  for (const auto& w : out.warnings) warnings_.warn(peer_name(q.p), w);
  for (auto& n : out.notices) notices.push_back(std::move(n));
  if (out.park && q.deadline > ctx.now) {
    q.p.wake_at = out.wake_at;
    return false;
  }
  // Rate-limited while parked: keep waiting for tokens, not an error (the
  // acks it carried were applied and their results must reach it).
  if (!out.reply.ok() && out.reply.error().code == Code::rate_limited && q.deadline > ctx.now) {
    q.p.wake_at = ctx.now + 50'000;
    return false;
  }
  if (!out.reply.ok() && out.reply.error().code == Code::rate_limited) out.reply = reply::Dequeue{};
  q.p.reply = to_reply(q.p.reply.rid, std::move(out.reply));
  if (q.p.reply.code == Code::ok) std::get<reply::Dequeue>(q.p.reply.body).acks = q.acks;  // copied, as above
  return true;
}

std::size_t Parking::commit(std::vector<Pending>& batch, std::vector<Pending>& woken, Micros now) {
  for (auto it : done_) {
    if (auto n = parked_on_.find(it->p.fd); n != parked_on_.end() && --n->second == 0) parked_on_.erase(n);
    woken.push_back(std::move(it->p));
    parked_.erase(it);
  }
  done_.clear();
  std::size_t started = 0;
  for (auto& p : batch) {
    if (!p.park) continue;
    const auto on = parked_on_.find(p.fd);
    if (parked_.size() >= kMaxParked || (on != parked_on_.end() && on->second >= kMaxParkedPerConnection)) {
      p.park = false;  // answered now, with no jobs: waiting is a courtesy, not a right
      continue;
    }
    Parked q;
    q.dequeue = std::get<cmd::Dequeue>(*p.command);
    q.dequeue.acks.clear();
    q.acks = std::move(std::get<reply::Dequeue>(p.reply.body).acks);
    q.deadline = now + Micros{*q.dequeue.wait_ms} * 1000;
    q.p = std::move(p);
    q.p.command.reset();
    ++parked_on_[q.p.fd];
    parked_.push_back(std::move(q));
    ++started;
  }
  std::erase_if(batch, [](const Pending& p) { return p.park; });
  return started;
}

// (A new connection that got the same fd before this ran sees an empty
// answer, as at a deadline.)
void Parking::disconnected(int fd) {
  for (auto& q : parked_)
    if (q.p.fd == fd) {
      q.gone = true;
      q.deadline = 0;
    }
}

Micros Parking::next_due(Micros next) const {
  for (const auto& q : parked_) {
    next = std::min(next, q.deadline);
    if (q.p.wake_at) next = std::min(next, q.p.wake_at);
  }
  return next;
}

}  // namespace ledgerq::transport
