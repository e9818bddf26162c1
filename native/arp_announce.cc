// A gratuitous ARP (an ARP request for the sender's own address, to the broadcast MAC) sent from a
// link inside a namespace: how a container tells its neighbours that its address now has its MAC.
// The kernel's own (arp_notify) goes out when the link comes up, before a bridge has made the host
// end of a veth a forwarding port, and is dropped there; this one is sent once the port forwards.
// The packet socket is bound to the namespace it is created in, so a worker enters, makes it,
// leaves, then sends.
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "executor.h"
#include "js.h"
#include "registry.h"

namespace mcni {
namespace {

struct ArpPacket {
  arphdr h;
  uint8_t sha[ETH_ALEN];
  uint8_t sip[4];
  uint8_t tha[ETH_ALEN];
  uint8_t tip[4];
} __attribute__((packed));

class AnnounceJob : public Job {
 public:
  AnnounceJob(UniqueFd netns, int ifindex, const uint8_t ip[4], const uint8_t mac[ETH_ALEN]) : netns_(std::move(netns)), ifindex_(ifindex) {
    failure.kind = "arp";
    memset(&p_, 0, sizeof p_);
    p_.h.ar_hrd = htons(ARPHRD_ETHER);
    p_.h.ar_pro = htons(ETH_P_IP);
    p_.h.ar_hln = ETH_ALEN;
    p_.h.ar_pln = 4;
    p_.h.ar_op = htons(ARPOP_REQUEST);
    memcpy(p_.sha, mac, ETH_ALEN);
    memcpy(p_.sip, ip, 4);
    memcpy(p_.tip, ip, 4);  // target = sender: gratuitous; tha stays zero, as arping -U sends it
  }
  void Execute() override {
    const std::string op = "gratuitous ARP on link " + std::to_string(ifindex_);
    if (netns_) {
      if (int e = EnterNetns(netns_.get())) return failure.Set(e, op + ": enter netns");
    }
    UniqueFd fd(socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP)));
    int socket_err = errno;
    if (int e = netns_ ? LeaveNetns() : 0) {
      poisoned = true;
      return failure.Set(e, op + ": return to home netns");
    }
    if (!fd) return failure.Set(socket_err, op + ": packet socket");
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_ARP);
    to.sll_ifindex = ifindex_;
    to.sll_halen = ETH_ALEN;
    memset(to.sll_addr, 0xff, ETH_ALEN);
    if (sendto(fd.get(), &p_, sizeof p_, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) failure.Set(errno, op);
  }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

 private:
  UniqueFd netns_;  // empty: the home namespace
  int ifindex_;
  ArpPacket p_;
};

// arpAnnounce(netnsFd, ifindex, ip: Buffer(4), mac: Buffer(6)): Promise<void>
Napi::Value Announce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto ip = info[2].As<Napi::Buffer<uint8_t>>();
  auto mac = info[3].As<Napi::Buffer<uint8_t>>();
  if (ip.Length() != 4 || mac.Length() != ETH_ALEN) {
    Napi::TypeError::New(env, "arpAnnounce: expected a 4-byte address and a 6-byte MAC").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int ifindex = info[1].As<Napi::Number>().Int32Value();
  UniqueFd netns = DupNetnsFd(env, info[0].As<Napi::Number>().Int32Value(), "gratuitous ARP", "arp");
  return Submit(env, std::make_unique<AnnounceJob>(std::move(netns), ifindex, ip.Data(), mac.Data()));
}

ExportFn e1("arpAnnounce", Announce);

}  // namespace
}  // namespace mcni
