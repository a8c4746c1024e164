#include "filter.hpp"

#include <algorithm>

#include "codec/codec.hpp"
#include "domain/view.hpp"

namespace ledgerq::replay {
namespace {

template <class T> bool any_of(const std::vector<T>& wanted, const T& v) {
  return wanted.empty() || std::find(wanted.begin(), wanted.end(), v) != wanted.end();
}

}  // namespace

std::string Matcher::client_of(const Event& e, domain::Kv& snapshot) {
  if (!e.client.empty()) {
    if (e.type == EventType::submit) owners_.insert_or_assign({e.datasource, e.job}, e.client);
    return e.client;
  }
  if (e.job.empty()) return {};  // datasource events belong to no client
  auto it = owners_.find(std::pair<std::string, std::string>{e.datasource, e.job});
  if (it != owners_.end()) return it->second;
  std::string owner;
  const std::string key = domain::join(e.datasource, e.job);
  auto order = snapshot.get(domain::Table::job_ids, key);
  if (auto rec = order ? snapshot.get(domain::Table::jobs, domain::join(e.datasource, *order)) : std::nullopt) {
    if (auto j = codec::decode_job_record(*rec)) owner = j->state.client;
  } else if (auto tomb = snapshot.get(domain::Table::tombstones, key)) {
    if (auto t = codec::decode_tombstone(*tomb)) owner = t->client;
  }
  owners_.emplace(std::pair<std::string, std::string>{e.datasource, e.job}, owner);
  return owner;
}

void Matcher::learn(const Event& e) {
  if (e.type == EventType::submit && !e.client.empty()) owners_.insert_or_assign({e.datasource, e.job}, e.client);
}

bool Matcher::match(const Event& e, domain::Kv& snapshot) {
  // The client is learnt from every submit, matched or not, so that later
  // events of the job are attributed without a lookup.
  const std::string client = f_.clients.empty() ? std::string() : client_of(e, snapshot);
  return any_of(f_.types, e.type) && any_of(f_.datasources, e.datasource) && any_of(f_.jobs, e.job) &&
         any_of(f_.clients, client);
}

}  // namespace ledgerq::replay
