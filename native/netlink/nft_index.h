// A tag index beside tagged iptables rules on nf_tables: a set in the rules' table holding one
// 16-byte key per tag that has rules in the indexed chains, added and removed in the same batch as
// the rules themselves (so the two never disagree), created in the batch that creates the chain.
// Asking the set for one key is a hash lookup; the alternative, a dump of the chains, makes the
// kernel fill every expression of every rule (~6 ms for 1000 rules). iptables-nft ignores sets it
// does not use (-S, -save and -restore --noflush read and write the table as before).
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "netlink/nft_msg.h"

namespace mcni {

using IndexKey = std::vector<uint8_t>;

// One index touched by a write or a delete: `set` (and, for a write, the chain whose creation in
// the same batch creates it), the keys to add and to remove.
struct IndexOps {
  std::string set;
  std::string create_with;
  std::vector<IndexKey> add;
  std::vector<IndexKey> remove;
};

// spec.index: [{set, createWith?, add?: Buffer[], remove?: Buffer[]}] (absent: none).
std::vector<IndexOps> ReadIndexOps(const Napi::Object& spec);

NlRequest GetSetReq(uint8_t family, const std::string& table, const std::string& set);
NlRequest GetElemReq(uint8_t family, const std::string& table, const std::string& set, const IndexKey& key);
// Batch members: the set (NLM_F_CREATE: an existing one is kept), an element added (an existing one
// kept) or deleted (it must exist: callers ask first).
NlRequest NewSetReq(uint8_t family, const std::string& table, const std::string& set);
NlRequest ElemReq(bool add, uint8_t family, const std::string& table, const std::string& set, const IndexKey& key);

// Which sets exist and, per set, which of its `remove` keys are in it: asked in one exchange so
// that a batch deletes only elements that are there (a DELSETELEM of an absent key fails it whole).
struct IndexProbe {
  std::vector<bool> set_exists;
  std::vector<std::vector<bool>> present;  // per index, per remove key
};
IndexProbe ProbeIndex(NlSocket& sock, uint8_t family, const std::string& table, const std::vector<IndexOps>& idx, Failure& f);
// The same in two halves, for a caller that asks other things in the same exchange: the requests
// appended to `reqs`, then read back from `first` on once answered.
void AppendIndexProbe(std::vector<NlRequest>& reqs, uint8_t family, const std::string& table, const std::vector<IndexOps>& idx);
IndexProbe ReadIndexProbe(const std::vector<NlRequest>& reqs, size_t first, const std::vector<IndexOps>& idx, Failure& f);

}  // namespace mcni
