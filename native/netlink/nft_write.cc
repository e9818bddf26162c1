// Writing iptables rules over nf_tables netlink: one transaction (BATCH_BEGIN ... BATCH_END, all
// or nothing) holding what one iptables-restore --noflush payload would: owned chains declared
// (created, or flushed when present), shared chains created only when absent (with their onCreate
// rules), appends, inserts, deletes by spec, flushes and chain deletions, built-in chains created
// as iptables-nft creates them. Rules are encoded as iptables-nft 1.8.x encodes them (nft_rule.cc,
// nft_xt.cc), so iptables reads, lists and deletes them as its own.
#include <linux/netfilter/ipset/ip_set.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <map>
#include <set>

#include "executor.h"
#include "js.h"
#include "netlink/handle.h"
#include "netlink/nft_index.h"
#include "netlink/nft_msg.h"
#include "netlink/nft_rule.h"
#include "registry.h"

namespace mcni {
namespace {

struct Builtin {
  const char* table;
  const char* chain;
  uint32_t hook;
  int32_t prio;
  const char* type;
};
// iptables-nft's built-in tables (same hooks and priorities for IPv4 and IPv6).
const Builtin kBuiltins[] = {
    {"filter", "INPUT", NF_INET_LOCAL_IN, 0, "filter"},         {"filter", "FORWARD", NF_INET_FORWARD, 0, "filter"},
    {"filter", "OUTPUT", NF_INET_LOCAL_OUT, 0, "filter"},       {"nat", "PREROUTING", NF_INET_PRE_ROUTING, -100, "nat"},
    {"nat", "INPUT", NF_INET_LOCAL_IN, 100, "nat"},             {"nat", "OUTPUT", NF_INET_LOCAL_OUT, -100, "nat"},
    {"nat", "POSTROUTING", NF_INET_POST_ROUTING, 100, "nat"},   {"mangle", "PREROUTING", NF_INET_PRE_ROUTING, -150, "filter"},
    {"mangle", "INPUT", NF_INET_LOCAL_IN, -150, "filter"},      {"mangle", "FORWARD", NF_INET_FORWARD, -150, "filter"},
    {"mangle", "OUTPUT", NF_INET_LOCAL_OUT, -150, "route"},     {"mangle", "POSTROUTING", NF_INET_POST_ROUTING, -150, "filter"},
    {"raw", "PREROUTING", NF_INET_PRE_ROUTING, -300, "filter"}, {"raw", "OUTPUT", NF_INET_LOCAL_OUT, -300, "filter"},
    {"security", "INPUT", NF_INET_LOCAL_IN, 50, "filter"},      {"security", "FORWARD", NF_INET_FORWARD, 50, "filter"},
    {"security", "OUTPUT", NF_INET_LOCAL_OUT, 50, "filter"},
};

const Builtin* FindBuiltin(const std::string& table, const std::string& chain) {
  for (const Builtin& b : kBuiltins) {
    if (table == b.table && chain == b.chain) return &b;
  }
  return nullptr;
}

struct Op {
  std::string op;  // append insert delete flush deleteChain
  std::string chain;
  NftRuleSpec rule;
};
struct Shared {
  std::string name;
  std::vector<Op> on_create;
};

Op ReadOp(const Napi::Object& o) {
  Op op;
  op.op = Str(o, "op");
  if (Has(o, "rule")) {
    op.rule = ReadRuleSpec(Obj(o, "rule"));
    op.chain = op.rule.chain;
  } else {
    op.chain = Str(o, "chain");
  }
  return op;
}

std::vector<std::string> Names(const Napi::Object& o, const char* k) {
  std::vector<std::string> out;
  Napi::Array a = o.Get(k).As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  return out;
}

class WriteJob : public Job {
 public:
  WriteJob(SocketRef s, const Napi::Object& spec, UniqueFd netns)
      : sock_(std::move(s)), netns_(std::move(netns)) {
    family_ = U32(spec, "family") == 6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
    table_ = Str(spec, "table");
    create_shared_ = Bool(spec, "createShared");
    own_ = Names(spec, "own");
    Napi::Array sh = Obj(spec, "shared").As<Napi::Array>();
    for (uint32_t i = 0; i < sh.Length(); ++i) {
      Napi::Object s = sh.Get(i).As<Napi::Object>();
      Shared x{Str(s, "name"), {}};
      Napi::Array oc = Obj(s, "onCreate").As<Napi::Array>();
      for (uint32_t j = 0; j < oc.Length(); ++j) x.on_create.push_back(ReadOp(oc.Get(j).As<Napi::Object>()));
      shared_.push_back(std::move(x));
    }
    Napi::Array ops = Obj(spec, "ops").As<Napi::Array>();
    for (uint32_t i = 0; i < ops.Length(); ++i) ops_.push_back(ReadOp(ops.Get(i).As<Napi::Object>()));
    index_ = ReadIndexOps(spec);
  }

  void Execute() override {
    failure.kind = "netlink";
    if (!ResolveSets()) return;
    if (!Probe()) return;
    for (const Shared& s : shared_) {
      if (!exists_.count(s.name)) missing_.push_back(s.name);
    }
    if (!missing_.empty() && !create_shared_) return;  // the caller takes the creation lock and asks again
    Build();
    if (failure.err || errno_ || batch_.size() <= 1) return;  // only the table: nothing to write
    Commit();
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("errno", errno_);
    o.Set("item", item_);
    o.Set("what", what_);
    if (!extack_.empty()) o.Set("extack", extack_);
    o.Set("committed", committed_);
    Napi::Array chains = Napi::Array::New(env, missing_.size());
    for (size_t i = 0; i < missing_.size(); ++i) chains.Set(i, missing_[i]);
    o.Set("missing", create_shared_ ? Napi::Array::New(env) : chains);
    if (create_shared_) o.Set("created", chains);
    return o;
  }

 private:
  // ipset names to indexes, asked in the rule's namespace (what libxt_set does with getsockopt).
  bool ResolveSets() {
    std::map<std::string, uint16_t> index;
    for (std::vector<Op>* list : AllOps()) {
      for (Op& op : *list) {
        for (NftMatchSpec& m : op.rule.matches) {
          if (m.kind != "set") continue;
          if (!index.count(m.name) && !LookupSet(m.name, index)) return false;
          m.set_index = index[m.name];
        }
      }
    }
    return true;
  }

  bool LookupSet(const std::string& name, std::map<std::string, uint16_t>& index) {
    if (!set_sock_) {
      if (int e = EnterNetns(netns_.get())) return failure.Set(e, "match set " + name + ": enter netns"), false;
      set_sock_ = UniqueFd(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
      int sock_err = set_sock_ ? 0 : errno;
      if (int e = LeaveNetns()) {
        poisoned = true;
        return failure.Set(e, "match set " + name + ": return to home netns"), false;
      }
      if (!set_sock_) return failure.Set(sock_err, "match set " + name + ": open ipset socket"), false;
    }
    ip_set_req_version v{};
    v.op = IP_SET_OP_VERSION;
    socklen_t len = sizeof v;
    if (getsockopt(set_sock_.get(), SOL_IP, SO_IP_SET, &v, &len) != 0) return failure.Set(errno, "match set " + name + ": ipset version"), false;
    ip_set_req_get_set_family r{};
    r.op = IP_SET_OP_GET_FNAME;
    r.version = v.version;
    r.family = family_;
    strncpy(r.set.name, name.c_str(), IPSET_MAXNAMELEN - 1);
    len = sizeof r;
    if (getsockopt(set_sock_.get(), SOL_IP, SO_IP_SET, &r, &len) != 0) return failure.Set(errno, "match set " + name + ": look up set"), false;
    if (r.set.index == IPSET_INVALID_ID) return failure.Set(ENOENT, "match set " + name, "Set " + name + " doesn't exist."), false;
    if (r.family != family_) return failure.Set(EINVAL, "match set " + name, "the set's family does not match the rule's"), false;
    index[name] = r.set.index;
    return true;
  }

  std::vector<std::vector<Op>*> AllOps() {
    std::vector<std::vector<Op>*> out{&ops_};
    for (Shared& s : shared_) out.push_back(&s.on_create);
    return out;
  }

  // Which chains exist, the rules (handle, canonical expressions) of chains we delete from, and the
  // tag indexes' sets and the keys to delete: one exchange.
  bool Probe() {
    std::set<std::string> chains(own_.begin(), own_.end());
    std::set<std::string> dumps;
    for (const Shared& s : shared_) chains.insert(s.name);
    for (std::vector<Op>* list : AllOps()) {
      for (const Op& op : *list) {
        chains.insert(op.chain);
        if (op.op == "delete") dumps.insert(op.chain);
      }
    }
    std::vector<NlRequest> reqs;
    std::vector<std::string> order(chains.begin(), chains.end());
    for (const std::string& c : order) {
      Msg get = NftMsg(NftType(NFT_MSG_GETCHAIN), NLM_F_REQUEST | NLM_F_ACK, family_);
      get.PutStr(NFTA_CHAIN_TABLE, table_);
      get.PutStr(NFTA_CHAIN_NAME, c);
      reqs.push_back(NftReq(std::move(get)));
    }
    std::vector<std::string> dumped(dumps.begin(), dumps.end());
    for (const std::string& c : dumped) {
      Msg dump = NftMsg(NftType(NFT_MSG_GETRULE), NLM_F_REQUEST | NLM_F_DUMP, family_);
      dump.PutStr(NFTA_RULE_TABLE, table_);
      dump.PutStr(NFTA_RULE_CHAIN, c);
      reqs.push_back(NftReq(std::move(dump), true));
    }
    size_t index_at = reqs.size();  // the tag indexes' sets and keys, in the same exchange
    AppendIndexProbe(reqs, family_, table_, index_);
    sock_->Transact(reqs, failure);
    if (failure.err) return false;
    index_probe_ = ReadIndexProbe(reqs, index_at, index_, failure);
    if (failure.err) return false;
    for (size_t i = 0; i < order.size(); ++i) {
      if (reqs[i].err == 0) exists_.insert(order[i]);
      else if (reqs[i].err != ENOENT) return failure.Set(reqs[i].err, "get chain " + order[i], reqs[i].extack), false;
    }
    for (size_t i = 0; i < dumped.size(); ++i) {
      const NlRequest& d = reqs[order.size() + i];
      if (d.err == ENOENT) continue;
      if (d.err) return failure.Set(d.err, "list rules of chain " + dumped[i], d.extack), false;
      for (const auto& raw : d.replies) {
        auto* h = reinterpret_cast<const nlmsghdr*>(raw.data());
        if (h->nlmsg_type != NftType(NFT_MSG_NEWRULE)) continue;
        int len;
        const rtattr* start = NftAttrs(h, &len);
        Attrs a(start, len, NFTA_RULE_MAX);
        if (!a.Has(NFTA_RULE_HANDLE) || !a.Has(NFTA_RULE_EXPRESSIONS)) continue;
        uint64_t be;
        memcpy(&be, a.Data(NFTA_RULE_HANDLE), 8);
        rules_[dumped[i]].push_back({be64toh(be), CanonicalExprs(a.Data(NFTA_RULE_EXPRESSIONS), a.Len(NFTA_RULE_EXPRESSIONS))});
      }
    }
    return true;
  }

  void Add(Msg m, int item, std::string what) { AddReq(NftReq(std::move(m), false, true), item, std::move(what)); }
  void AddReq(NlRequest r, int item, std::string what) {
    batch_.push_back(std::move(r));
    items_.push_back({item, std::move(what)});
  }

  // The tag indexes' elements, after the rules they describe: a set that does not exist is
  // created only with its chain (an empty chain: the index is complete from the start); a set
  // that does not exist otherwise (a chain older than the index) is left alone, and its readers
  // keep listing the chains.
  void PutIndex(const std::set<std::string>& created) {
    for (size_t i = 0; i < index_.size(); ++i) {
      const IndexOps& x = index_[i];
      bool exists = index_probe_.set_exists[i];
      if (!exists && created.count(x.create_with)) {
        AddReq(NewSetReq(family_, table_, x.set), -1, "create set " + x.set);
        exists = true;
      }
      if (!exists) continue;
      for (const IndexKey& k : x.add) AddReq(ElemReq(true, family_, table_, x.set, k), -1, "add to set " + x.set);
      for (size_t j = 0; j < x.remove.size(); ++j) {
        if (index_probe_.present[i][j]) AddReq(ElemReq(false, family_, table_, x.set, x.remove[j]), -1, "delete from set " + x.set);
      }
    }
  }

  void EnsureBuiltin(const std::string& chain, int item) {
    const Builtin* b = FindBuiltin(table_, chain);
    if (!b || exists_.count(chain)) return;
    Msg m = NftMsg(NftType(NFT_MSG_NEWCHAIN), NLM_F_REQUEST | NLM_F_CREATE, family_);
    m.PutStr(NFTA_CHAIN_TABLE, table_);
    m.PutStr(NFTA_CHAIN_NAME, chain);
    AttrBuf hook;
    hook.PutBe32(NFTA_HOOK_HOOKNUM, b->hook);
    hook.PutBe32(NFTA_HOOK_PRIORITY, static_cast<uint32_t>(b->prio));
    m.Put(NFTA_CHAIN_HOOK | NLA_F_NESTED, hook.buf().data(), hook.buf().size());
    uint32_t accept = htobe32(NF_ACCEPT);
    m.Put(NFTA_CHAIN_POLICY, &accept, 4);
    m.PutStr(NFTA_CHAIN_TYPE, b->type);
    Add(std::move(m), item, "create built-in chain " + chain);
    exists_.insert(chain);
  }

  void NewChain(const std::string& name, int item) {
    Msg m = NftMsg(NftType(NFT_MSG_NEWCHAIN), NLM_F_REQUEST | NLM_F_EXCL, family_);
    m.PutStr(NFTA_CHAIN_TABLE, table_);
    m.PutStr(NFTA_CHAIN_NAME, name);
    Add(std::move(m), item, "create chain " + name);
  }

  void Flush(const std::string& chain, int item) {
    Msg m = NftMsg(NftType(NFT_MSG_DELRULE), NLM_F_REQUEST, family_);
    m.PutStr(NFTA_RULE_TABLE, table_);
    m.PutStr(NFTA_RULE_CHAIN, chain);
    Add(std::move(m), item, "flush chain " + chain);
  }

  void Refuse(int err, int item, std::string what, std::string detail = "") {
    errno_ = err;
    item_ = item;
    what_ = std::move(what);
    extack_ = std::move(detail);
  }

  void PutOp(const Op& op, int item) {
    if (op.op == "flush") return Flush(op.chain, item);
    if (op.op == "deleteChain") {
      Msg m = NftMsg(NftType(NFT_MSG_DELCHAIN), NLM_F_REQUEST, family_);
      m.PutStr(NFTA_CHAIN_TABLE, table_);
      m.PutStr(NFTA_CHAIN_NAME, op.chain);
      return Add(std::move(m), item, "delete chain " + op.chain);
    }
    std::vector<uint8_t> exprs = EncodeExprs(op.rule, family_);
    if (op.op == "delete") {
      std::string canon = CanonicalExprs(exprs.data(), exprs.size());
      auto& rules = rules_[op.chain];
      for (auto it = rules.begin(); it != rules.end(); ++it) {
        if (it->second != canon) continue;
        Msg m = NftMsg(NftType(NFT_MSG_DELRULE), NLM_F_REQUEST, family_);
        m.PutStr(NFTA_RULE_TABLE, table_);
        m.PutStr(NFTA_RULE_CHAIN, op.chain);
        uint64_t be = htobe64(it->first);
        m.Put(NFTA_RULE_HANDLE, &be, 8);
        std::string what = "delete rule " + std::to_string(it->first) + " from chain " + op.chain;
        rules.erase(it);  // a second identical -D deletes the next copy, as iptables does
        return Add(std::move(m), item, what);
      }
      return Refuse(ENOENT, item, "delete rule from chain " + op.chain, "no such rule in the chain (does a matching rule exist in that chain?)");
    }
    EnsureBuiltin(op.chain, item);
    uint16_t flags = NLM_F_REQUEST | NLM_F_CREATE | (op.op == "append" ? NLM_F_APPEND : 0);
    Msg m = NftMsg(NftType(NFT_MSG_NEWRULE), flags, family_);
    m.PutStr(NFTA_RULE_TABLE, table_);
    m.PutStr(NFTA_RULE_CHAIN, op.chain);
    m.Put(NFTA_RULE_EXPRESSIONS | NLA_F_NESTED, exprs.data(), exprs.size());
    AttrBuf compat;
    compat.PutBe32(NFTA_RULE_COMPAT_PROTO, op.rule.proto);
    compat.PutBe32(NFTA_RULE_COMPAT_FLAGS, op.rule.proto_neg ? NFT_RULE_COMPAT_F_INV : 0);
    m.Put(NFTA_RULE_COMPAT | NLA_F_NESTED, compat.buf().data(), compat.buf().size());
    Add(std::move(m), item, (op.op == "append" ? "append to chain " : "insert into chain ") + op.chain);
  }

  // Items count as the lines of the equivalent payload after `*table`: declarations, then each
  // created shared chain's -N and onCreate lines, then the ops.
  void Build() {
    Msg table = NftMsg(NftType(NFT_MSG_NEWTABLE), NLM_F_REQUEST | NLM_F_CREATE, family_);
    table.PutStr(NFTA_TABLE_NAME, table_);
    Add(std::move(table), -1, "create table " + table_);
    int item = 0;
    for (const std::string& c : own_) {
      if (exists_.count(c)) Flush(c, item);
      else NewChain(c, item);
      exists_.insert(c);
      ++item;
    }
    std::set<std::string> created;
    for (const Shared& s : shared_) {
      if (exists_.count(s.name)) continue;
      NewChain(s.name, item++);
      exists_.insert(s.name);
      created.insert(s.name);
      for (const Op& op : s.on_create) {
        PutOp(op, item++);
        if (errno_) return;
      }
    }
    for (const Op& op : ops_) {
      PutOp(op, item++);
      if (errno_) return;
    }
    PutIndex(created);
  }

  void Commit() {
    NftRefusal r = CommitNft(*sock_, std::move(batch_), failure);
    if (failure.err) return;
    if (r.err == 0) {
      committed_ = true;
    } else if (r.index < 0) {
      Refuse(r.err, -1, "commit", r.extack);
    } else {
      Refuse(r.err, items_[r.index].first, items_[r.index].second, r.extack);
    }
  }

  SocketRef sock_;
  UniqueFd netns_;
  UniqueFd set_sock_;
  uint8_t family_;
  std::string table_;
  bool create_shared_;
  std::vector<std::string> own_;
  std::vector<Shared> shared_;
  std::vector<Op> ops_;
  std::vector<IndexOps> index_;
  IndexProbe index_probe_;
  std::set<std::string> exists_;
  std::map<std::string, std::vector<std::pair<uint64_t, std::string>>> rules_;
  std::vector<NlRequest> batch_;
  std::vector<std::pair<int, std::string>> items_;  // per batch message: payload item, description
  std::vector<std::string> missing_;
  int errno_ = 0;
  bool committed_ = false;
  int item_ = -1;
  std::string what_;
  std::string extack_;
};

// nftWrite(handle, spec, netnsFd): Promise<{errno, item, what, extack?, missing, created?}>.
Napi::Value Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SocketRef sock = OpenSocket(env, info[0], NETLINK_NETFILTER, "nftWrite");
  Napi::Object spec = info[1].As<Napi::Object>();
  UniqueFd ns = DupNetnsFd(env, info[2].As<Napi::Number>().Int32Value(), "nftWrite", "netlink");
  return Submit(env, std::make_unique<WriteJob>(std::move(sock), spec, std::move(ns)));
}

ExportFn e("nftWrite", Write);

}  // namespace
}  // namespace mcni
