// Building rtnetlink requests and walking the attributes of replies.
#pragma once
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/fd.h"

namespace mcni {

// One request: header, a fixed body (ifinfomsg, ifaddrmsg, ...) and attributes.
class Msg {
 public:
  Msg(uint16_t type, uint16_t flags) : buf_(NLMSG_HDRLEN, 0) {
    auto* h = Hdr();
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
  }
  nlmsghdr* Hdr() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
  // Append the fixed body; returns its offset (pointers move as the buffer grows).
  template <class T>
  size_t Body() {
    size_t off = buf_.size();
    buf_.resize(off + NLMSG_ALIGN(sizeof(T)), 0);
    return off;
  }
  template <class T>
  T* At(size_t off) { return reinterpret_cast<T*>(buf_.data() + off); }

  void Put(uint16_t type, const void* data, size_t len) {
    size_t off = buf_.size();
    buf_.resize(off + RTA_ALIGN(RTA_LENGTH(len)), 0);
    auto* a = reinterpret_cast<rtattr*>(buf_.data() + off);
    a->rta_type = type;
    a->rta_len = RTA_LENGTH(len);
    if (len) memcpy(RTA_DATA(a), data, len);
  }
  void PutU8(uint16_t t, uint8_t v) { Put(t, &v, 1); }
  void PutU16(uint16_t t, uint16_t v) { Put(t, &v, 2); }
  void PutU32(uint16_t t, uint32_t v) { Put(t, &v, 4); }
  void PutS32(uint16_t t, int32_t v) { Put(t, &v, 4); }
  void PutBe16(uint16_t t, uint16_t v) {
    uint16_t be = htobe16(v);
    Put(t, &be, 2);
  }
  void PutStr(uint16_t t, const std::string& s) { Put(t, s.c_str(), s.size() + 1); }
  void PutBytes(uint16_t t, const std::vector<uint8_t>& b) { Put(t, b.data(), b.size()); }
  void PutFlag(uint16_t t) { Put(t, nullptr, 0); }
  // An fd-valued attribute (IFLA_NET_NS_FD): the kernel reads the number when the message is
  // sent, on a worker, so the message owns the fd until TakeFds hands it to the request.
  void PutFd(uint16_t t, UniqueFd fd) {
    PutS32(t, fd.get());
    fds_.push_back(std::move(fd));
  }
  size_t NestBegin(uint16_t type) {
    size_t off = buf_.size();
    Put(type, nullptr, 0);
    return off;
  }
  void NestEnd(size_t off) {
    reinterpret_cast<rtattr*>(buf_.data() + off)->rta_len = buf_.size() - off;
  }
  // Finalise the length and hand over the bytes.
  std::vector<uint8_t> Take() {
    Hdr()->nlmsg_len = buf_.size();
    return std::move(buf_);
  }
  std::vector<UniqueFd> TakeFds() { return std::move(fds_); }

 private:
  std::vector<uint8_t> buf_;
  std::vector<UniqueFd> fds_;
};

// Index attributes of a reply by type (later duplicates win; max type bounded by `n`).
class Attrs {
 public:
  Attrs(const rtattr* start, int len, int n) : tb_(n + 1, nullptr) {
    for (const rtattr* a = start; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
      int t = a->rta_type & NLA_TYPE_MASK;
      if (t <= n) tb_[t] = a;
    }
  }
  // Attributes nested inside `a`.
  static Attrs Nested(const rtattr* a, int n) {
    return Attrs(static_cast<const rtattr*>(RTA_DATA(a)), RTA_PAYLOAD(a), n);
  }
  const rtattr* operator[](int t) const { return t < (int)tb_.size() ? tb_[t] : nullptr; }
  bool Has(int t) const { return (*this)[t] != nullptr; }
  uint8_t U8(int t) const { return *static_cast<const uint8_t*>(RTA_DATA(tb_[t])); }
  uint16_t U16(int t) const { uint16_t v; memcpy(&v, RTA_DATA(tb_[t]), 2); return v; }
  uint16_t Be16(int t) const { return be16toh(U16(t)); }
  uint32_t U32(int t) const { uint32_t v; memcpy(&v, RTA_DATA(tb_[t]), 4); return v; }
  int32_t S32(int t) const { int32_t v; memcpy(&v, RTA_DATA(tb_[t]), 4); return v; }
  std::string Str(int t) const {
    const char* p = static_cast<const char*>(RTA_DATA(tb_[t]));
    return std::string(p, strnlen(p, RTA_PAYLOAD(tb_[t])));
  }
  const uint8_t* Data(int t) const { return static_cast<const uint8_t*>(RTA_DATA(tb_[t])); }
  size_t Len(int t) const { return RTA_PAYLOAD(tb_[t]); }

 private:
  std::vector<const rtattr*> tb_;
};

}  // namespace mcni
