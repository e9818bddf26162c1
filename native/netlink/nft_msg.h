// nfnetlink message helpers shared by the nf_tables files: message types, the nfgenmsg body,
// requests, and a builder for nested attributes as libmnl lays them out (NLA_F_NESTED on nests).
#pragma once
#include <endian.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "netlink/message.h"
#include "netlink/socket.h"

namespace mcni {

constexpr uint16_t NftType(int msg) { return (NFNL_SUBSYS_NFTABLES << 8) | msg; }

inline Msg NftMsg(uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id = 0) {
  Msg m(type, flags);
  size_t off = m.Body<nfgenmsg>();
  m.At<nfgenmsg>(off)->nfgen_family = family;
  m.At<nfgenmsg>(off)->version = NFNETLINK_V0;
  m.At<nfgenmsg>(off)->res_id = htobe16(res_id);
  return m;
}

inline NlRequest NftReq(Msg m, bool dump = false, bool quiet = false) {
  NlRequest r;
  r.msg = m.Take();
  r.dump = dump;
  r.quiet = quiet;
  return r;
}

// Attributes in a plain buffer (an expression list, a nest's contents), 4-byte aligned.
class AttrBuf {
 public:
  void Put(uint16_t type, const void* data, size_t len) {
    size_t off = b_.size();
    b_.resize(off + NLA_ALIGN(NLA_HDRLEN + len), 0);
    auto* a = reinterpret_cast<nlattr*>(b_.data() + off);
    a->nla_type = type;
    a->nla_len = NLA_HDRLEN + len;
    if (len) memcpy(b_.data() + off + NLA_HDRLEN, data, len);
  }
  void PutBe32(uint16_t type, uint32_t v) {
    uint32_t be = htobe32(v);
    Put(type, &be, 4);
  }
  void PutBe64(uint16_t type, uint64_t v) {
    uint64_t be = htobe64(v);
    Put(type, &be, 8);
  }
  void PutStr(uint16_t type, const std::string& s) { Put(type, s.c_str(), s.size() + 1); }
  size_t Begin(uint16_t type) {
    size_t off = b_.size();
    Put(type | NLA_F_NESTED, nullptr, 0);
    return off;
  }
  void End(size_t off) { reinterpret_cast<nlattr*>(b_.data() + off)->nla_len = b_.size() - off; }
  const std::vector<uint8_t>& buf() const { return b_; }

 private:
  std::vector<uint8_t> b_;
};

// What the kernel refused in a transaction: `index` into its ops (-1: BATCH_BEGIN/END, i.e. the
// batch itself), with its errno and extended ACK; `err` 0: committed.
struct NftRefusal {
  int err = 0;
  int index = -1;
  std::string extack;
};

// One nf_tables transaction: `ops` between BATCH_BEGIN and BATCH_END, committed or aborted whole,
// then a GETGEN whose answer means every error of the batch has been read (NlSocket::Batch).
// Socket failures, and a failed GETGEN, land in `f`; the first op the kernel refused is returned.
inline NftRefusal CommitNft(NlSocket& sock, std::vector<NlRequest> ops, Failure& f) {
  std::vector<NlRequest> batch;
  batch.reserve(ops.size() + 2);
  batch.push_back(NftReq(NftMsg(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, AF_UNSPEC, NFNL_SUBSYS_NFTABLES), false, true));
  for (auto& op : ops) batch.push_back(std::move(op));
  batch.push_back(NftReq(NftMsg(NFNL_MSG_BATCH_END, NLM_F_REQUEST, AF_UNSPEC, NFNL_SUBSYS_NFTABLES), false, true));
  NlRequest sentinel = NftReq(NftMsg(NftType(NFT_MSG_GETGEN), NLM_F_REQUEST | NLM_F_ACK, AF_UNSPEC));
  sock.Batch(batch, sentinel, f);
  if (f.err) return {};
  if (sentinel.err) {
    f.Set(sentinel.err, "nf_tables generation after commit", sentinel.extack);
    return {};
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].err == 0) continue;
    bool whole = i == 0 || i + 1 == batch.size();
    return {batch[i].err, whole ? -1 : static_cast<int>(i) - 1, batch[i].extack};
  }
  return {};
}

// The attributes after a reply's nfgenmsg.
inline const rtattr* NftAttrs(const nlmsghdr* h, int* len) {
  *len = h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(nfgenmsg)));
  return reinterpret_cast<const rtattr*>(static_cast<const uint8_t*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(nfgenmsg)));
}

}  // namespace mcni
