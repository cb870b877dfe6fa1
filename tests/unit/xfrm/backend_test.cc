// The xfrm backend against this machine's kernel, each test in a network namespace of its own:
// the start-up probe, policies installed from engine commands (and their removal), a trap
// policy whose real kernel ACQUIRE becomes an engine acquire, SPIs from ALLOCSPI, and SA
// installation — which needs ESP in the kernel: where it is missing (this sandbox), the test
// checks that the failure is reported clearly, then skips visibly.
#include "kernel/xfrm/backend.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <poll.h>
#include <unistd.h>

#include "esp/io/rtnl.h"
#include "kernel/xfrm/codec/uapi.h"
#include "kernel_dump.h"
#include "netns.h"
#include "util/unique_fd.h"

namespace ikeplex::kernel {
namespace {

using esp::io::testing::ScopedNetns;

IpAddress ip(const char* s) {
    return IpAddress::parse(s).value();
}

ike::TrafficSelector ts(const char* s) {
    return ike::TrafficSelector::parse(s).value();
}

/// True when `uname -r` is at least major.minor.
bool kernel_at_least(int major, int minor) {
    utsname u{};
    if (::uname(&u) != 0) {
        return false;
    }
    int a = 0;
    int b = 0;
    if (std::sscanf(u.release, "%d.%d", &a, &b) != 2) {  // NOLINT(cert-err34-c)
        return false;
    }
    return a > major || (a == major && b >= minor);
}

/// The prefix length `addr` has on interface `ifindex` (getifaddrs), -1 if it is not there.
int prefix_on(unsigned ifindex, const IpAddress& addr) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) {
        return -1;
    }
    int len = -1;
    for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
        if (i->ifa_addr == nullptr || i->ifa_netmask == nullptr ||
            i->ifa_addr->sa_family != AF_INET || ::if_nametoindex(i->ifa_name) != ifindex) {
            continue;
        }
        const auto* a = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
        const auto* m = reinterpret_cast<const sockaddr_in*>(i->ifa_netmask);
        if (IpAddress::v4(ntohl(a->sin_addr.s_addr)) == addr) {
            len = __builtin_popcount(m->sin_addr.s_addr);
        }
    }
    ::freeifaddrs(list);
    return len;
}

/// Every policy / SA in the kernel (dumps on a socket of our own).
std::vector<xfrm::PolicySpec> kernel_policies() {
    auto s = netlink::Socket::open(NETLINK_XFRM);
    if (!s) {
        ADD_FAILURE() << s.error().to_string();
        return {};
    }
    return xfrm::testing::dump_all<xfrm::PolicySpec>(*s, xfrm::build_dump_policy(),
                                                     XFRM_MSG_NEWPOLICY, xfrm::parse_policy);
}

std::vector<xfrm::SaInfo> kernel_sas() {
    auto s = netlink::Socket::open(NETLINK_XFRM);
    if (!s) {
        ADD_FAILURE() << s.error().to_string();
        return {};
    }
    return xfrm::testing::dump_all<xfrm::SaInfo>(*s, xfrm::build_dump_sa(), XFRM_MSG_NEWSA,
                                                 xfrm::parse_sa);
}

class XfrmBackendTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!ns_.ok()) {
            GTEST_SKIP() << ns_.why();
        }
        lo_ = ::if_nametoindex("lo");
        // Packets routed via lo skip the policy lookup unless disable_xfrm is cleared (this
        // namespace's lo is ours).
        {
            std::ofstream f("/proc/sys/net/ipv4/conf/lo/disable_xfrm");
            f << "0\n";
            f.close();
            ASSERT_TRUE(f.good()) << "cannot clear net.ipv4.conf.lo.disable_xfrm";
        }
        ASSERT_TRUE(esp::io::add_address(lo_, ip("10.99.7.1"), 24));
        auto b = XfrmBackend::create(XfrmOptions{});
        ASSERT_TRUE(b) << b.error().to_string();
        backend_ = std::move(*b);
        backend_->set_event_sink([this](const ike::BackendEvent& e) { events_.push_back(e); });
    }

    [[nodiscard]] ike::InstallPolicy policy(bool per_cpu) const {
        ike::InstallPolicy p;
        p.reqid = ReqId(42);
        p.local_ts = {ts("10.99.7.0/24")};
        p.remote_ts = {ts("10.99.8.0/24")};
        p.local = Endpoint{ip("10.99.7.1"), 500};
        p.remote = Endpoint{ip("10.99.7.2"), 500};
        p.mode = ike::Mode::kTunnel;
        p.trap = true;
        p.per_cpu_acquire = per_cpu;
        return p;
    }

    void apply(ike::BackendCommand c) {
        std::vector<ike::BackendCommand> v;
        v.push_back(std::move(c));
        backend_->apply(v);
    }

    /// Waits (at most 2 s) for the backend's event socket and hands its events to the sink.
    void pump() {
        for (int i = 0; i < 20 && events_.empty(); ++i) {
            pollfd p{backend_->event_fd(), POLLIN, 0};
            if (::poll(&p, 1, 100) > 0) {
                backend_->poll_events();
            }
        }
    }

    ScopedNetns ns_;
    unsigned lo_{0};
    std::unique_ptr<XfrmBackend> backend_;
    std::vector<ike::BackendEvent> events_;
};

TEST_F(XfrmBackendTest, ProbeKnowsThisKernel) {
    const XfrmProbe& p = backend_->probe();
    // Per-CPU SAs came with Linux 6.13 (and 6.12.y backports: only "at least" is certain).
    if (kernel_at_least(6, 13)) {
        EXPECT_TRUE(p.per_cpu) << p.per_cpu_detail;
    }
    if (!p.esp) {
        EXPECT_FALSE(p.esp_detail.empty());
        std::printf("probe: no ESP in this kernel: %s\n", p.esp_detail.c_str());
    }
    // The probe leaves nothing behind.
    EXPECT_TRUE(kernel_sas().empty());
}

TEST_F(XfrmBackendTest, PoliciesInstalledListedAndRemoved) {
    apply(policy(true));
    const auto list = kernel_policies();
    ASSERT_EQ(list.size(), 3U);  // out, in, fwd
    EXPECT_EQ(backend_->installed_policies(), 3U);
    bool saw_out = false;
    for (const auto& p : list) {
        ASSERT_EQ(p.templates.size(), 1U);
        const xfrm::Template& t = p.templates[0];
        EXPECT_EQ(t.reqid, 42U);
        EXPECT_EQ(t.spi, Spi(0));  // never an SPI in the template
        EXPECT_EQ(t.mode, xfrm::XfrmMode::kTunnel);
        EXPECT_EQ(p.priority, policy_priority(p.selector));
        if (p.dir == xfrm::Dir::kOut) {
            saw_out = true;
            EXPECT_EQ(p.selector.src, ip("10.99.7.0"));
            EXPECT_EQ(p.selector.src_len, 24);
            EXPECT_EQ(p.selector.dst, ip("10.99.8.0"));
            EXPECT_EQ(t.src, ip("10.99.7.1"));
            EXPECT_EQ(t.dst, ip("10.99.7.2"));
            if (backend_->probe().per_cpu) {
                EXPECT_EQ(p.flags & xfrm::kXfrmPolicyCpuAcquire, xfrm::kXfrmPolicyCpuAcquire);
            }
        } else {
            EXPECT_EQ(p.selector.src, ip("10.99.8.0"));
            EXPECT_EQ(t.src, ip("10.99.7.2"));
            EXPECT_EQ(t.dst, ip("10.99.7.1"));
            EXPECT_EQ(p.flags & xfrm::kXfrmPolicyCpuAcquire, 0);
        }
    }
    EXPECT_TRUE(saw_out);
    // Installing the same policy again (trap -> established) replaces, never duplicates.
    auto again = policy(true);
    again.trap = false;
    apply(again);
    EXPECT_EQ(kernel_policies().size(), 3U);
    // The tunnel route to the remote selectors, in table 220.
    auto via = esp::io::route_to(ip("10.99.8.5"));
    ASSERT_TRUE(via) << via.error().to_string();
    EXPECT_EQ(via->oif, lo_);

    ike::DeletePolicy d{ReqId(42), {ts("10.99.7.0/24")}, {ts("10.99.8.0/24")}};
    apply(d);
    EXPECT_TRUE(kernel_policies().empty());
    EXPECT_EQ(backend_->installed_policies(), 0U);
}

// A virtual IP goes as /32 onto the interface of the route to the peer (here lo), a tunnel
// policy whose local selector is that address then has it as the policy's source and as the
// source of the route in table 220, and the address goes again when asked (or on flush).
TEST_F(XfrmBackendTest, VirtualIpOnThePeersInterfaceIsTheTunnelSource) {
    const IpAddress vip = ip("10.99.9.5");
    ASSERT_TRUE(backend_->virtual_ip(vip, true, ip("10.99.7.2")));
    EXPECT_EQ(prefix_on(lo_, vip), 32);
    auto p = policy(false);
    p.local_ts = {ts("10.99.9.5/32")};
    apply(p);
    bool saw_out = false;
    for (const auto& kp : kernel_policies()) {
        if (kp.dir == xfrm::Dir::kOut) {
            saw_out = true;
            EXPECT_EQ(kp.selector.src, vip);
            EXPECT_EQ(kp.selector.src_len, 32);
        }
    }
    EXPECT_TRUE(saw_out);
    auto via = esp::io::route_to(ip("10.99.8.5"));
    ASSERT_TRUE(via) << via.error().to_string();
    EXPECT_EQ(via->oif, lo_);
    ASSERT_TRUE(via->prefsrc.has_value());
    EXPECT_EQ(*via->prefsrc, vip);

    apply(ike::DeletePolicy{ReqId(42), {ts("10.99.9.5/32")}, {ts("10.99.8.0/24")}});
    ASSERT_TRUE(backend_->virtual_ip(vip, false, ip("10.99.7.2")));
    EXPECT_EQ(prefix_on(lo_, vip), -1);
    // Removing it again, or adding one without a peer of its family: a clear error.
    EXPECT_FALSE(backend_->virtual_ip(vip, false, ip("10.99.7.2")));
    EXPECT_FALSE(backend_->virtual_ip(vip, true, IpAddress{}));
    EXPECT_FALSE(backend_->virtual_ip(vip, true, ip("fd00::1")));

    ASSERT_TRUE(backend_->virtual_ip(vip, true, ip("10.99.7.2")));
    backend_->flush();
    EXPECT_EQ(prefix_on(lo_, vip), -1);
}

// install_virtual_ip_on (strongSwan's charon key): the address goes on the named interface
// whatever the route to the peer; an interface that does not exist is a clear error.
TEST_F(XfrmBackendTest, VirtualIpOnTheNamedInterface) {
    const IpAddress vip = ip("10.99.9.6");
    backend_->set_vip_interface("lo");
    ASSERT_TRUE(backend_->virtual_ip(vip, true, IpAddress{}));
    EXPECT_EQ(prefix_on(lo_, vip), 32);
    ASSERT_TRUE(backend_->virtual_ip(vip, false, IpAddress{}));
    EXPECT_EQ(prefix_on(lo_, vip), -1);
    backend_->set_vip_interface("nosuchif0");
    const Status st = backend_->virtual_ip(vip, true, ip("10.99.7.2"));
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().detail, std::string("install_virtual_ip_on: no such interface"));
    EXPECT_EQ(prefix_on(lo_, vip), -1);
}

TEST_F(XfrmBackendTest, TrapPolicyRaisesRealAcquire) {
    apply(policy(true));
    {
        const UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        ASSERT_TRUE(fd.valid());
        sockaddr_in src{};
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl(0x0a630701);  // 10.99.7.1
        ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&src), sizeof src), 0);
        sockaddr_in dst{};
        dst.sin_family = AF_INET;
        dst.sin_port = htons(9);
        dst.sin_addr.s_addr = htonl(0x0a630805);  // 10.99.8.5
        // The kernel holds or drops the packet (no SA yet) and tells us: either result is fine.
        (void)::sendto(fd.get(), "x", 1, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&dst),
                       sizeof dst);
    }
    pump();
    ASSERT_FALSE(events_.empty()) << "no ACQUIRE from the kernel within 2 s";
    const auto* a = std::get_if<ike::Acquire>(&events_.front());
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->reqid, ReqId(42));
    // No SA at all: a CPU-less acquire even with XFRM_POLICY_CPU_ACQUIRE (peers.md §3.3): the
    // group's fallback comes first.
    EXPECT_TRUE(a->resource.is_none());
    ASSERT_TRUE(a->src && a->dst);
    EXPECT_EQ(a->src->start, ip("10.99.7.1"));
    EXPECT_EQ(a->dst->start, ip("10.99.8.5"));
    EXPECT_EQ(a->dst->protocol, IPPROTO_UDP);
    EXPECT_EQ(a->dst->start_port, 9);
    EXPECT_EQ(a->dst->end_port, 9);
    EXPECT_EQ(backend_->xfrm_counters().acquires, 1U);
}

TEST_F(XfrmBackendTest, SpisComeFromTheKernel) {
    const ike::SpiRequest r{ResourceId::cpu(0), ip("10.99.7.1"), ip("10.99.7.2")};
    const Spi spi = backend_->allocate(r);
    EXPECT_GT(spi.value(), 255U);
    EXPECT_EQ(backend_->xfrm_counters().spi_fallbacks, 0U);
    const auto sas = kernel_sas();
    ASSERT_EQ(sas.size(), 1U);
    EXPECT_EQ(sas[0].spi, spi);
    EXPECT_EQ(sas[0].src, ip("10.99.7.2"));  // inbound: from the peer
    EXPECT_EQ(sas[0].dst, ip("10.99.7.1"));
    if (backend_->probe().per_cpu) {
        ASSERT_TRUE(sas[0].pcpu);
        EXPECT_EQ(*sas[0].pcpu, 0U);
        // Inbound like the SA that will update it (xfrm_state_update refuses another).
        ASSERT_TRUE(sas[0].direction);
        EXPECT_EQ(*sas[0].direction, xfrm::kXfrmSaDirIn);
    }
    backend_->release(spi);
    EXPECT_TRUE(kernel_sas().empty());
}

TEST_F(XfrmBackendTest, SaInstallOrAClearFailure) {
    const Spi spi = backend_->allocate(
            ike::SpiRequest{ResourceId::cpu(0), ip("10.99.7.1"), ip("10.99.7.2")});
    ike::InstallSa s;
    s.child_id = 9;
    s.reqid = ReqId(42);
    s.spi = spi;
    s.inbound = true;
    s.src = Endpoint{ip("10.99.7.2"), 4500};
    s.dst = Endpoint{ip("10.99.7.1"), 4500};
    s.udp_encap = true;
    s.encr_id = 12;  // ENCR_AES_CBC
    s.encr_key_bits = 128;
    s.integ_id = 12;  // AUTH_HMAC_SHA2_256_128
    s.encr_key = SecretBytes(16);
    s.integ_key = SecretBytes(32);
    s.resource = ResourceId::cpu(0);
    apply(std::move(s));
    if (!backend_->probe().esp) {
        ASSERT_EQ(events_.size(), 1U);
        const auto* f = std::get_if<ike::InstallFailed>(&events_.front());
        ASSERT_NE(f, nullptr);
        EXPECT_EQ(f->child_id, 9U);
        EXPECT_NE(f->reason.find("no ESP"), std::string::npos) << f->reason;
        EXPECT_EQ(backend_->installed_sas(), 0U);
        EXPECT_EQ(backend_->xfrm_counters().sa_install_failed, 1U);
        GTEST_SKIP() << "kernel has no ESP (" << backend_->probe().esp_detail
                     << "); the failure was reported as: " << f->reason;
    }
    ASSERT_TRUE(events_.empty());
    EXPECT_EQ(backend_->installed_sas(), 1U);
    auto st = backend_->stats(spi, true);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->packets, 0U);
    if (backend_->probe().per_cpu) {
        EXPECT_EQ(st->worker, 0);
    }
    apply(ike::DeleteSa{9, spi, true, Endpoint{ip("10.99.7.1"), 4500}});
    EXPECT_EQ(backend_->installed_sas(), 0U);
    EXPECT_TRUE(kernel_sas().empty());
}

// MOBIKE (RFC 4555 §3.5): UpdateSaAddresses moves an installed SA to the peer's new address with
// the same SPI, CPU and sequence numbers (delete and re-add, replay state carried over), and the
// policies sent again with the new endpoints get the new tunnel template. A move of an SA that is
// not installed is reported. Needs ESP (the VM's xfrm-gtest scenario runs it there).
TEST_F(XfrmBackendTest, UpdateSaAddressesKeepsSpiCpuAndSequenceNumbers) {
    const Endpoint here{ip("10.99.7.1"), 4500};
    const Endpoint old_peer{ip("10.99.7.2"), 4500};
    const Endpoint new_peer{ip("10.99.7.3"), 4500};
    apply(ike::UpdateSaAddresses{5, Spi(0x4242), false, here, old_peer, here, new_peer, true});
    ASSERT_EQ(events_.size(), 1U);
    EXPECT_EQ(std::get<ike::InstallFailed>(events_.front()).spi, Spi(0x4242));
    events_.clear();

    const Spi spi(0x0badcafe);
    ike::InstallSa s;
    s.child_id = 9;
    s.reqid = ReqId(42);
    s.spi = spi;
    s.src = here;
    s.dst = old_peer;
    s.udp_encap = true;
    s.encr_id = 20;  // ENCR_AES_GCM_16
    s.encr_key_bits = 128;
    s.encr_key = SecretBytes(20);
    s.replay_window = 32;
    s.resource = ResourceId::cpu(0);
    apply(std::move(s));
    if (!backend_->probe().esp) {
        GTEST_SKIP() << "kernel has no ESP (" << backend_->probe().esp_detail << ")";
    }
    ASSERT_TRUE(events_.empty());
    apply(policy(true));
    apply(ike::UpdateSaAddresses{9, spi, false, here, old_peer, here, new_peer, true});
    ASSERT_TRUE(events_.empty());
    ike::InstallPolicy moved = policy(true);
    moved.remote = new_peer;
    apply(moved);
    const auto sas = kernel_sas();
    ASSERT_EQ(sas.size(), 1U);
    EXPECT_EQ(sas[0].spi, spi);
    EXPECT_EQ(sas[0].src, here.address);
    EXPECT_EQ(sas[0].dst, new_peer.address);
    ASSERT_TRUE(sas[0].replay.has_value());
    EXPECT_GE(sas[0].replay->oseq, 16U);  // continues past what may have been sent
    if (backend_->probe().per_cpu) {
        EXPECT_EQ(sas[0].pcpu, std::optional<std::uint32_t>(0));
    }
    bool template_moved = false;
    for (const auto& k : kernel_policies()) {
        if (k.dir == xfrm::Dir::kOut && !k.templates.empty()) {
            template_moved = k.templates.front().dst == new_peer.address;
        }
    }
    EXPECT_TRUE(template_moved);
    EXPECT_EQ(backend_->installed_sas(), 1U);
    apply(ike::DeleteSa{9, spi, false, new_peer});
    EXPECT_TRUE(kernel_sas().empty());
}

TEST(XfrmSelectors, PrefixesPortsAndPriority) {
    auto pairs = kernel_selectors(ts("10.99.1.0/24"), ts("10.99.2.0-10.99.2.5[tcp/80-81]"));
    ASSERT_TRUE(pairs);
    // 10.99.2.0/30 + 10.99.2.4/31, ports 80/0xfffe: 2 kernel selectors.
    ASSERT_EQ(pairs->size(), 2U);
    EXPECT_EQ((*pairs)[0].out.dst_len, 30);
    EXPECT_EQ((*pairs)[0].out.dport, 80);
    EXPECT_EQ((*pairs)[0].out.dport_mask, 0xfffe);
    EXPECT_EQ((*pairs)[0].out.proto, IPPROTO_TCP);
    EXPECT_EQ((*pairs)[0].in.sport, 80);
    EXPECT_EQ((*pairs)[0].in.src_len, 30);
    EXPECT_LT(policy_priority((*pairs)[1].out), policy_priority((*pairs)[0].out));  // /31 first
    // Families never mix; a selector needing too many kernel policies is refused.
    EXPECT_TRUE(kernel_selectors(ts("10.99.1.0/24"), ts("fd00::/64"))->empty());
    EXPECT_FALSE(kernel_selectors(ts("10.99.1.1-10.99.1.254"), ts("10.99.2.1-10.99.2.254")));
}

TEST(XfrmSelectors, IcmpTypeInSportCodeInDport) {
    // RFC 7296 §3.13.1: type 8 (echo request) code 0 in the remote selector's "port".
    auto one = kernel_selectors(ts("10.99.1.0/24[icmp]"), ts("10.99.2.0/24[icmp/2048]"));
    ASSERT_TRUE(one);
    ASSERT_EQ(one->size(), 1U);
    for (const xfrm::Selector& x : {(*one)[0].out, (*one)[0].in}) {
        EXPECT_EQ(x.sport, 8);
        EXPECT_EQ(x.sport_mask, 0xffff);
        EXPECT_EQ(x.dport, 0);
        EXPECT_EQ(x.dport_mask, 0xffff);
    }
    // All ICMP: no type or code.
    auto all = kernel_selectors(ts("10.99.1.0/24[icmp]"), ts("10.99.2.0/24[icmp]"));
    ASSERT_TRUE(all);
    EXPECT_EQ((*all)[0].out.sport_mask, 0);
    EXPECT_EQ((*all)[0].out.dport_mask, 0);
    // Several types cannot be one kernel selector: refused, not widened.
    EXPECT_FALSE(kernel_selectors(ts("10.99.1.0/24[icmp]"), ts("10.99.2.0/24[icmp/0-2303]")));
}

TEST(XfrmSelectors, TunnelSaSelectorIsFamilyless) {
    // XFRM_STATE_AF_UNSPEC: the tunnel-mode SA takes inner packets of either family.
    xfrm::SaSpec s;
    s.src = ip("10.99.0.1");
    s.dst = ip("10.99.0.2");
    s.spi = Spi(0x1234);
    s.flags = XFRM_STATE_AF_UNSPEC;
    s.encryption = xfrm::Algorithm{"cbc(aes)", 0, SecretBytes(16)};
    s.integrity = xfrm::Algorithm{"hmac(sha256)", 128, SecretBytes(32)};
    auto req = xfrm::build_new_sa(s, false);
    ASSERT_TRUE(req.ok());
    auto info = xfrm::parse_sa(req.body());
    ASSERT_TRUE(info) << info.error().to_string();
    EXPECT_EQ(info->selector.family, 0);
    EXPECT_EQ(info->flags & XFRM_STATE_AF_UNSPEC, XFRM_STATE_AF_UNSPEC);
}

}  // namespace
}  // namespace ikeplex::kernel
