// nf_tables over nfnetlink, just what finding and removing tagged rules needs: list a chain's
// rules with their handles and comments (unless the chains' tag index says the tag has none,
// nft_index.h), and delete rules (by handle), chains and index keys in one transaction. The
// rules stay iptables-nft's (nft_write.cc writes them as it does), read and deleted here where a
// resident process's socket never closes and so never waits out the RCU grace period that every
// deleting iptables-nft process pays on exit (~25 ms).
#include <endian.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <sys/socket.h>
#include <linux/netfilter/nfnetlink.h>
#include <napi.h>

#include "executor.h"
#include "js.h"
#include "netlink/handle.h"
#include "netlink/message.h"
#include "netlink/nft_index.h"
#include "netlink/nft_msg.h"
#include "registry.h"

namespace mcni {
namespace {

uint8_t NfFamily(const Napi::Object& spec) { return U32(spec, "family") == 6 ? NFPROTO_IPV6 : NFPROTO_IPV4; }

// Visit each attribute in [start, start+len), duplicates included (lists repeat one type).
template <class F>
void Each(const rtattr* start, int len, F f) {
  for (const rtattr* a = start; RTA_OK(a, len); a = RTA_NEXT(a, len)) f(a);
}
template <class F>
void EachNested(const rtattr* a, F f) {
  Each(static_cast<const rtattr*>(RTA_DATA(a)), RTA_PAYLOAD(a), f);
}

std::string CStr(const void* p, size_t max) {
  const char* s = static_cast<const char*>(p);
  return std::string(s, strnlen(s, max));
}

// A rule's comments: iptables-nft writes `-m comment` as an xt `comment` match expression (whose
// info is the 256-byte string); newer iptables and nft keep it in the rule's userdata instead
// (TLVs of type, length, value; type 0 is the comment).
std::vector<std::string> Comments(const Attrs& rule) {
  std::vector<std::string> out;
  if (rule.Has(NFTA_RULE_EXPRESSIONS)) {
    EachNested(rule[NFTA_RULE_EXPRESSIONS], [&](const rtattr* elem) {
      Attrs e = Attrs::Nested(elem, NFTA_EXPR_MAX);
      if (!e.Has(NFTA_EXPR_NAME) || !e.Has(NFTA_EXPR_DATA) || e.Str(NFTA_EXPR_NAME) != "match") return;
      Attrs m = Attrs::Nested(e[NFTA_EXPR_DATA], NFTA_MATCH_MAX);
      if (m.Has(NFTA_MATCH_NAME) && m.Has(NFTA_MATCH_INFO) && m.Str(NFTA_MATCH_NAME) == "comment") {
        out.push_back(CStr(m.Data(NFTA_MATCH_INFO), m.Len(NFTA_MATCH_INFO)));
      }
    });
  }
  if (rule.Has(NFTA_RULE_USERDATA)) {
    const uint8_t* p = rule.Data(NFTA_RULE_USERDATA);
    size_t len = rule.Len(NFTA_RULE_USERDATA);
    for (size_t i = 0; i + 2 <= len && i + 2 + p[i + 1] <= len; i += 2 + p[i + 1]) {
      if (p[i] == 0) out.push_back(CStr(p + i + 2, p[i + 1]));
    }
  }
  return out;
}

struct ListedRule {
  double handle;  // kernel handles count up from 1 per table: exact in a double
  std::vector<std::string> comments;
  std::vector<uint8_t> exprs;  // NFTA_RULE_EXPRESSIONS as the kernel dumps it, when asked (raw)
};
struct ListedChain {
  std::string name;
  bool exists = false;
  bool listed = true;  // false: the tag index says the tag has no rules, so nothing was dumped
  std::vector<ListedRule> rules;
};

class ListJob : public Job {
 public:
  ListJob(SocketRef s, uint8_t family, std::string table, std::vector<std::string> chains, bool filter, std::string tag, bool raw,
          std::string index_set, IndexKey index_key)
      : sock_(std::move(s)), family_(family), table_(std::move(table)), filter_(filter), tag_(std::move(tag)), raw_(raw),
        index_set_(std::move(index_set)), index_key_(std::move(index_key)) {
    for (auto& c : chains) out_.push_back({std::move(c)});
  }
  void Execute() override {
    // A 1000-rule chain keeps the kernel busy ~6 ms (dumping every expression of every rule). At
    // normal priority: its caller waits for it (the port mapper's DNAT write, a DEL), and at nice
    // 19 it only came later on a busy host — ADD at the 500th container 6-7% slower (docs/library.md).
    std::vector<NlRequest> reqs;
    List(reqs);
  }
  // Milliseconds: never in the quick lane, whose netlink round trips it would hold up.
  bool LongRunning() const override { return true; }
  // With an index: the set, the tag's key and the chains asked in one exchange; a set that exists
  // without the key means no rules of the tag, and the chains' existence is all there is to say.
  bool Indexed() {
    if (index_set_.empty()) return false;
    std::vector<NlRequest> reqs;  // NlRequest moves only: no initializer list
    reqs.push_back(GetSetReq(family_, table_, index_set_));
    reqs.push_back(GetElemReq(family_, table_, index_set_, index_key_));
    for (const auto& c : out_) reqs.push_back(GetChainReq(c.name));
    sock_->Transact(reqs, failure);
    if (failure.err) return false;
    if (reqs[0].err != 0) return reqs[0].err == ENOENT ? false : (failure.Set(reqs[0].err, "get set " + index_set_, reqs[0].extack), false);
    if (reqs[1].err == 0) return false;  // the tag has rules: list them
    if (reqs[1].err != ENOENT) return failure.Set(reqs[1].err, "get element of set " + index_set_, reqs[1].extack), false;
    for (size_t i = 0; i < out_.size(); ++i) {
      const NlRequest& get = reqs[2 + i];
      if (get.err != 0 && get.err != ENOENT) return failure.Set(get.err, "get chain " + out_[i].name, get.extack), true;
      out_[i].exists = get.err == 0;
      out_[i].listed = false;
    }
    return true;
  }
  NlRequest GetChainReq(const std::string& chain) {
    Msg get = NftMsg(NftType(NFT_MSG_GETCHAIN), NLM_F_REQUEST | NLM_F_ACK, family_);
    get.PutStr(NFTA_CHAIN_TABLE, table_);
    get.PutStr(NFTA_CHAIN_NAME, chain);
    return NftReq(std::move(get));
  }
  void List(std::vector<NlRequest>& reqs) {
    if (Indexed() || failure.err) return;
    for (const auto& c : out_) {
      reqs.push_back(GetChainReq(c.name));
      Msg dump = NftMsg(NftType(NFT_MSG_GETRULE), NLM_F_REQUEST | NLM_F_DUMP, family_);
      dump.PutStr(NFTA_RULE_TABLE, table_);
      dump.PutStr(NFTA_RULE_CHAIN, c.name);
      reqs.push_back(NftReq(std::move(dump), true));
    }
    sock_->Transact(reqs, failure);
    if (failure.err) return;
    for (size_t i = 0; i < out_.size(); ++i) {
      ListedChain& c = out_[i];
      const NlRequest& get = reqs[2 * i];
      const NlRequest& dump = reqs[2 * i + 1];
      if (get.err != 0 && get.err != ENOENT) return failure.Set(get.err, "get chain " + c.name, get.extack);
      if (dump.err != 0) return failure.Set(dump.err, "list rules of chain " + c.name, dump.extack);
      c.exists = get.err == 0;
      for (const auto& raw : dump.replies) {
        auto* h = reinterpret_cast<const nlmsghdr*>(raw.data());
        if (h->nlmsg_type != NftType(NFT_MSG_NEWRULE)) continue;
        auto* start = reinterpret_cast<const rtattr*>(static_cast<const uint8_t*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(nfgenmsg)));
        Attrs a(start, h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(nfgenmsg))), NFTA_RULE_MAX);
        if (!a.Has(NFTA_RULE_HANDLE)) continue;
        std::vector<std::string> comments = Comments(a);
        if (filter_ && (comments.empty() || comments[0] != tag_)) continue;
        uint64_t be;
        memcpy(&be, a.Data(NFTA_RULE_HANDLE), 8);
        std::vector<uint8_t> exprs;
        if (raw_ && a.Has(NFTA_RULE_EXPRESSIONS)) exprs.assign(a.Data(NFTA_RULE_EXPRESSIONS), a.Data(NFTA_RULE_EXPRESSIONS) + a.Len(NFTA_RULE_EXPRESSIONS));
        c.rules.push_back({static_cast<double>(be64toh(be)), std::move(comments), std::move(exprs)});
      }
    }
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array arr = Napi::Array::New(env, out_.size());
    for (size_t i = 0; i < out_.size(); ++i) {
      Napi::Object c = Napi::Object::New(env);
      c.Set("name", out_[i].name);
      c.Set("exists", out_[i].exists);
      c.Set("listed", out_[i].listed);
      Napi::Array rules = Napi::Array::New(env, out_[i].rules.size());
      for (size_t j = 0; j < out_[i].rules.size(); ++j) {
        Napi::Object r = Napi::Object::New(env);
        r.Set("handle", out_[i].rules[j].handle);
        Napi::Array cs = Napi::Array::New(env, out_[i].rules[j].comments.size());
        for (size_t k = 0; k < out_[i].rules[j].comments.size(); ++k) cs.Set(k, out_[i].rules[j].comments[k]);
        r.Set("comments", cs);
        if (raw_) r.Set("exprs", ToBuffer(env, out_[i].rules[j].exprs.data(), out_[i].rules[j].exprs.size()));
        rules.Set(j, r);
      }
      c.Set("rules", rules);
      arr.Set(i, c);
    }
    return arr;
  }

 private:
  SocketRef sock_;
  uint8_t family_;
  std::string table_;
  bool filter_;      // keep only rules whose first comment is tag_: a 1000-rule chain would
  std::string tag_;  // otherwise cost the main thread ~2 ms of objects for the few it wants
  bool raw_;
  std::string index_set_;  // empty: no index
  IndexKey index_key_;
  std::vector<ListedChain> out_;
};

class DeleteJob : public Job {
 public:
  DeleteJob(SocketRef s, std::vector<NlRequest> ops, uint8_t family, std::string table, std::vector<IndexOps> index)
      : sock_(std::move(s)), ops_(std::move(ops)), family_(family), table_(std::move(table)), index_(std::move(index)) {}
  void Execute() override {
    // The tags' index keys go in the same batch as their rules, those that are there (a delete of
    // an absent element would fail the batch).
    IndexProbe p = ProbeIndex(*sock_, family_, table_, index_, failure);
    if (failure.err) return;
    for (size_t i = 0; i < index_.size(); ++i) {
      for (size_t j = 0; j < index_[i].remove.size(); ++j) {
        if (p.present[i][j]) ops_.push_back(ElemReq(false, family_, table_, index_[i].set, index_[i].remove[j]));
      }
    }
    if (ops_.empty()) return;  // only index keys to delete, and none there
    refused_ = CommitNft(*sock_, std::move(ops_), failure);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("errno", refused_.err);
    o.Set("index", refused_.index);
    if (!refused_.extack.empty()) o.Set("extack", refused_.extack);
    return o;
  }

 private:
  SocketRef sock_;
  std::vector<NlRequest> ops_;
  uint8_t family_;
  std::string table_;
  std::vector<IndexOps> index_;
  NftRefusal refused_;  // the first op the kernel refused; err 0: committed
};

// nftList(handle, {family: 4|6, table, chains, tag?, raw?, index?: {set, key}}):
// Promise<{name, exists, listed, rules: {handle, comments, exprs?}[]}[]>
// With `tag`, only the rules whose first comment is exactly that; with `raw`, each rule's
// expressions as the kernel dumps them (tests compare them byte for byte); with `index`, nothing is
// dumped when the set exists without the key (`listed` false).
Napi::Value List(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SocketRef sock = OpenSocket(env, info[0], NETLINK_NETFILTER, "nftList");
  Napi::Object spec = info[1].As<Napi::Object>();
  std::vector<std::string> chains;
  Napi::Array a = Obj(spec, "chains").As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) chains.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  std::string index_set;
  IndexKey index_key;
  if (Has(spec, "index")) {
    Napi::Object idx = Obj(spec, "index");
    index_set = Str(idx, "set");
    index_key = Bytes(idx, "key");
  }
  return Submit(env, std::make_unique<ListJob>(std::move(sock), NfFamily(spec), Str(spec, "table"), std::move(chains),
                                               Has(spec, "tag"), Str(spec, "tag"), Bool(spec, "raw"), std::move(index_set), std::move(index_key)));
}

// nftDelete(handle, {family, table, rules: {chain, handle}[], chains: string[], index?}): one
// transaction deleting the rules, then the chains (which must be unreferenced by then), and the
// index keys `index[].remove` that are in their sets.
// Promise<{errno, index, extack?}>: index of the refused op (rules first, then chains), -1 = none.
Napi::Value Delete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SocketRef sock = OpenSocket(env, info[0], NETLINK_NETFILTER, "nftDelete");
  Napi::Object spec = info[1].As<Napi::Object>();
  uint8_t family = NfFamily(spec);
  std::string table = Str(spec, "table");
  std::vector<NlRequest> ops;
  Napi::Array rules = Obj(spec, "rules").As<Napi::Array>();
  for (uint32_t i = 0; i < rules.Length(); ++i) {
    Napi::Object r = rules.Get(i).As<Napi::Object>();
    Msg m = NftMsg(NftType(NFT_MSG_DELRULE), NLM_F_REQUEST, family);
    m.PutStr(NFTA_RULE_TABLE, table);
    m.PutStr(NFTA_RULE_CHAIN, Str(r, "chain"));
    uint64_t be = htobe64(static_cast<uint64_t>(r.Get("handle").As<Napi::Number>().Int64Value()));
    m.Put(NFTA_RULE_HANDLE, &be, 8);
    ops.push_back(NftReq(std::move(m), false, true));
  }
  Napi::Array chains = Obj(spec, "chains").As<Napi::Array>();
  for (uint32_t i = 0; i < chains.Length(); ++i) {
    Msg m = NftMsg(NftType(NFT_MSG_DELCHAIN), NLM_F_REQUEST, family);
    m.PutStr(NFTA_CHAIN_TABLE, table);
    m.PutStr(NFTA_CHAIN_NAME, chains.Get(i).As<Napi::String>().Utf8Value());
    ops.push_back(NftReq(std::move(m), false, true));
  }
  return Submit(env, std::make_unique<DeleteJob>(std::move(sock), std::move(ops), family, table, ReadIndexOps(spec)));
}

ExportFn e1("nftList", List);
ExportFn e2("nftDelete", Delete);

}  // namespace
}  // namespace mcni
