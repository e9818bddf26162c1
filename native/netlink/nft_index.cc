// The tag index's messages (nft_index.h).
#include "netlink/nft_index.h"

#include <cerrno>

#include "js.h"

namespace mcni {
namespace {

constexpr uint32_t kKeyLen = 16;
// nft's TYPE_IP6ADDR (16 bytes): `nft list` prints the keys as IPv6 addresses, and its output
// loads again with `nft -f` (a set of an unnamed type prints as `type 0`, which does not).
constexpr uint32_t kKeyType = 8;

Msg ElemsMsg(uint16_t type, uint16_t flags, uint8_t family, const std::string& table, const std::string& set, const IndexKey& key) {
  Msg m = NftMsg(NftType(type), flags, family);
  m.PutStr(NFTA_SET_ELEM_LIST_TABLE, table);
  m.PutStr(NFTA_SET_ELEM_LIST_SET, set);
  AttrBuf elems;
  size_t elem = elems.Begin(NFTA_LIST_ELEM);
  size_t k = elems.Begin(NFTA_SET_ELEM_KEY);
  elems.Put(NFTA_DATA_VALUE, key.data(), key.size());
  elems.End(k);
  elems.End(elem);
  m.Put(NFTA_SET_ELEM_LIST_ELEMENTS | NLA_F_NESTED, elems.buf().data(), elems.buf().size());
  return m;
}

}  // namespace

std::vector<IndexOps> ReadIndexOps(const Napi::Object& spec) {
  std::vector<IndexOps> out;
  if (!Has(spec, "index")) return out;
  Napi::Array a = Obj(spec, "index").As<Napi::Array>();
  auto keys = [](const Napi::Object& o, const char* k) {
    std::vector<IndexKey> ks;
    if (!Has(o, k)) return ks;
    Napi::Array arr = Obj(o, k).As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      Napi::Buffer<uint8_t> b = arr.Get(i).As<Napi::Buffer<uint8_t>>();
      ks.emplace_back(b.Data(), b.Data() + b.Length());
    }
    return ks;
  };
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Object o = a.Get(i).As<Napi::Object>();
    out.push_back({Str(o, "set"), Str(o, "createWith"), keys(o, "add"), keys(o, "remove")});
  }
  return out;
}

NlRequest GetSetReq(uint8_t family, const std::string& table, const std::string& set) {
  Msg m = NftMsg(NftType(NFT_MSG_GETSET), NLM_F_REQUEST | NLM_F_ACK, family);
  m.PutStr(NFTA_SET_TABLE, table);
  m.PutStr(NFTA_SET_NAME, set);
  return NftReq(std::move(m));
}

NlRequest GetElemReq(uint8_t family, const std::string& table, const std::string& set, const IndexKey& key) {
  return NftReq(ElemsMsg(NFT_MSG_GETSETELEM, NLM_F_REQUEST | NLM_F_ACK, family, table, set, key));
}

NlRequest NewSetReq(uint8_t family, const std::string& table, const std::string& set) {
  Msg m = NftMsg(NftType(NFT_MSG_NEWSET), NLM_F_REQUEST | NLM_F_CREATE, family);
  m.PutStr(NFTA_SET_TABLE, table);
  m.PutStr(NFTA_SET_NAME, set);
  uint32_t v = htobe32(kKeyType);
  m.Put(NFTA_SET_KEY_TYPE, &v, 4);
  v = htobe32(kKeyLen);
  m.Put(NFTA_SET_KEY_LEN, &v, 4);
  v = htobe32(1);  // the set's id within the batch (libnftnl always sends one)
  m.Put(NFTA_SET_ID, &v, 4);
  return NftReq(std::move(m), false, true);
}

NlRequest ElemReq(bool add, uint8_t family, const std::string& table, const std::string& set, const IndexKey& key) {
  uint16_t flags = NLM_F_REQUEST | (add ? NLM_F_CREATE : 0);
  return NftReq(ElemsMsg(add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, flags, family, table, set, key), false, true);
}

void AppendIndexProbe(std::vector<NlRequest>& reqs, uint8_t family, const std::string& table, const std::vector<IndexOps>& idx) {
  for (const IndexOps& x : idx) {
    reqs.push_back(GetSetReq(family, table, x.set));
    for (const IndexKey& k : x.remove) reqs.push_back(GetElemReq(family, table, x.set, k));
  }
}

IndexProbe ReadIndexProbe(const std::vector<NlRequest>& reqs, size_t first, const std::vector<IndexOps>& idx, Failure& f) {
  IndexProbe p;
  size_t at = first;
  for (const IndexOps& x : idx) {
    const NlRequest& s = reqs[at++];
    if (s.err != 0 && s.err != ENOENT) return f.Set(s.err, "get set " + x.set, s.extack), p;
    p.set_exists.push_back(s.err == 0);
    std::vector<bool> present;
    for (size_t i = 0; i < x.remove.size(); ++i) {
      const NlRequest& e = reqs[at++];
      if (s.err == 0 && e.err != 0 && e.err != ENOENT) return f.Set(e.err, "get element of set " + x.set, e.extack), p;
      present.push_back(s.err == 0 && e.err == 0);
    }
    p.present.push_back(std::move(present));
  }
  return p;
}

IndexProbe ProbeIndex(NlSocket& sock, uint8_t family, const std::string& table, const std::vector<IndexOps>& idx, Failure& f) {
  std::vector<NlRequest> reqs;
  AppendIndexProbe(reqs, family, table, idx);
  if (reqs.empty()) return {};
  sock.Transact(reqs, f);
  if (f.err) return {};
  return ReadIndexProbe(reqs, 0, idx, f);
}

}  // namespace mcni
