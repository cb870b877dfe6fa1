// Two data planes with real I/O and worker threads, one per network namespace, joined by a
// veth pair: TUN devices steered by CPU, ESP sockets in a reuseport group steered by SPI, and
// UDP traffic sent from each CPU. This is the threaded path the `tsan` preset checks.
// Needs root (namespaces, TUN); skips visibly otherwise.
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include <linux/udp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include "esp/dataplane.h"
#include "esp/esp_codec.h"
#include "esp/io/rtnl.h"
#include "esp/io/tun.h"
#include "esp/io/udp_io.h"
#include "esp/sa_crypto.h"
#include "kernel/userspace_backend.h"
#include "util/unique_fd.h"

namespace ikeplex::esp {
namespace {

const crypto::Registry& registry() {
    static const auto r = crypto::Registry::create().value();
    return *r;
}

int sh(const std::string& cmd) {
    return std::system((cmd + " >/dev/null 2>&1").c_str());
}

/// Runs `f` with the calling thread in network namespace `name`, then returns.
template <class F>
auto in_netns(const std::string& name, F f) {
    UniqueFd self(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    UniqueFd target(::open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC));
    EXPECT_TRUE(self && target);
    EXPECT_EQ(::setns(target.get(), CLONE_NEWNET), 0);
    auto r = f();
    EXPECT_EQ(::setns(self.get(), CLONE_NEWNET), 0);
    return r;
}

class Namespaces {
public:
    Namespaces()
        : a_("ikdpA" + std::to_string(::getpid())), b_("ikdpB" + std::to_string(::getpid())) {
        down();
        const std::string va = "dpa" + std::to_string(::getpid());
        const std::string vb = "dpb" + std::to_string(::getpid());
        ok_ = sh("ip netns add " + a_) == 0 && sh("ip netns add " + b_) == 0 &&
              sh("ip link add " + va + " type veth peer name " + vb) == 0 &&
              sh("ip link set " + va + " netns " + a_) == 0 &&
              sh("ip link set " + vb + " netns " + b_) == 0 &&
              sh("ip -n " + a_ + " addr add 10.99.0.1/24 dev " + va) == 0 &&
              sh("ip -n " + b_ + " addr add 10.99.0.2/24 dev " + vb) == 0 &&
              sh("ip -n " + a_ + " link set " + va + " up") == 0 &&
              sh("ip -n " + b_ + " link set " + vb + " up") == 0 &&
              sh("ip -n " + a_ + " link set lo up") == 0 &&
              sh("ip -n " + b_ + " link set lo up") == 0 &&
              sh("ip -n " + a_ + " addr add 10.99.1.1/32 dev lo") == 0 &&
              sh("ip -n " + b_ + " addr add 10.99.2.1/32 dev lo") == 0;
    }
    ~Namespaces() { down(); }
    Namespaces(const Namespaces&) = delete;
    Namespaces& operator=(const Namespaces&) = delete;
    [[nodiscard]] bool ok() const { return ok_; }
    [[nodiscard]] const std::string& a() const { return a_; }
    [[nodiscard]] const std::string& b() const { return b_; }

private:
    void down() {
        sh("ip netns del " + a_);
        sh("ip netns del " + b_);
    }
    std::string a_, b_;
    bool ok_{false};
};

Selector sel(const char* text) {
    return kernel::to_selector(ike::TrafficSelector::parse(text).value());
}

struct Side {
    std::string ns;
    Endpoint outer;
    const char* local_net;
    const char* remote_net;
    const char* remote_prefix;
    const char* inner;
    std::optional<io::UdpSocket> control;  // index 0 of the reuseport group (the IKE socket)
    std::unique_ptr<Dataplane> dp;
};

/// The two sides of the namespace pair: a 10.99.1.0/24 behind 10.99.0.1, b 10.99.2.0/24 behind
/// 10.99.0.2.
Side side_a(const Namespaces& ns) {
    return Side{ns.a(),
                {IpAddress::parse("10.99.0.1").value(), 4500},
                "10.99.1.0/24",
                "10.99.2.0/24",
                "10.99.2.0",
                "10.99.1.1",
                {},
                {}};
}
Side side_b(const Namespaces& ns) {
    return Side{ns.b(),
                {IpAddress::parse("10.99.0.2").value(), 4500},
                "10.99.2.0/24",
                "10.99.1.0/24",
                "10.99.1.0",
                "10.99.2.1",
                {},
                {}};
}

/// A UDP socket on 10.99.2.1:9000 in b's namespace (receive timeout `timeout_us`; `big`: an
/// 8 MiB receive buffer, so that every datagram fits when the test reads after sending).
UniqueFd receiver(const Side& b, bool big, long timeout_us) {
    return in_netns(b.ns, [&] {
        UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(9000);
        addr.sin_addr.s_addr = htonl(0x0a630201);
        EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);  // NOLINT
        if (big) {
            const int rcvbuf = 8 << 20;
            ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
        }
        const timeval tv{0, timeout_us};
        ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        return fd;
    });
}

bool start(Side& s) {
    return in_netns(s.ns, [&] {
        auto control = io::UdpSocket::open(s.outer, true, false);
        if (!control) {
            return false;
        }
        s.control.emplace(std::move(*control));
        DataplaneOptions o;
        o.workers = 2;
        o.tun_name = "ikdp0";
        o.udp_binds = {s.outer};
        auto dp = Dataplane::create(registry(), o);
        if (!dp) {
            ADD_FAILURE() << dp.error().to_string();
            return false;
        }
        s.dp = std::move(*dp);
        const auto prefix = IpAddress::parse(s.remote_prefix).value();
        const auto src = IpAddress::parse(s.inner).value();
        return static_cast<bool>(io::add_route(s.dp->tun()->ifindex(), prefix, 24, &src));
    });
}

SaConfig config(const Side& me, const Side& peer, Spi spi, bool inbound, ResourceId r,
                std::uint8_t key_seed) {
    SaConfig c;
    c.reqid = ReqId(1);
    c.spi = spi;
    c.inbound = inbound;
    c.resource = r;
    c.replay_window = 128;
    c.local = me.outer;
    c.peer = peer.outer;
    c.encr_id = 20;
    c.encr_key_bits = 128;
    Bytes key(20);
    for (std::size_t i = 0; i < key.size(); ++i) {
        key[i] = static_cast<std::uint8_t>(key_seed + i);
    }
    c.encr_key = SecretBytes::copy_of(key);
    c.local_ts = {sel(me.local_net)};
    c.remote_ts = {sel(peer.local_net)};
    return c;
}

/// One Child SA between a (resource ra) and b (resource rb); returns a's outbound SPI.
Spi pair(Side& a, Side& b, ResourceId ra, ResourceId rb, std::uint8_t seed) {
    const Spi a_in = a.dp->allocate_spi(ra);
    const Spi b_in = b.dp->allocate_spi(rb);
    EXPECT_TRUE(a.dp->install(config(a, b, b_in, false, ra, seed)));
    EXPECT_TRUE(b.dp->install(config(b, a, b_in, true, rb, seed)));
    EXPECT_TRUE(b.dp->install(config(b, a, a_in, false, rb, static_cast<std::uint8_t>(seed + 50))));
    EXPECT_TRUE(a.dp->install(config(a, b, a_in, true, ra, static_cast<std::uint8_t>(seed + 50))));
    return b_in;
}

void policies(Side& s) {
    Policy p;
    p.reqid = ReqId(1);
    p.local = {sel(s.local_net)};
    p.remote = {sel(s.remote_net)};
    p.per_cpu = true;
    s.dp->set_policies({p});
}

/// Sends `n` datagrams from 10.99.1.1 on CPU `cpu` to 10.99.2.1:9000 (namespace a).
void send_from_cpu(const std::string& ns, unsigned cpu, int n) {
    std::thread t([&] {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        ::sched_setaffinity(0, sizeof set, &set);
        in_netns(ns, [&] {
            UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
            sockaddr_in src{};
            src.sin_family = AF_INET;
            src.sin_addr.s_addr = htonl(0x0a630101);  // 10.99.1.1
            EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&src), sizeof src),
                      0);  // NOLINT
            sockaddr_in dst{};
            dst.sin_family = AF_INET;
            dst.sin_port = htons(9000);
            dst.sin_addr.s_addr = htonl(0x0a630201);  // 10.99.2.1
            const char payload[200] = {};
            for (int i = 0; i < n; ++i) {
                ::sendto(fd.get(), payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&dst),
                         sizeof dst);  // NOLINT
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            }
            return true;
        });
    });
    t.join();
}

TEST(DataplaneIo, TwoNamespacesCarryEachCpusTrafficOnItsOwnSa) {
    if (::geteuid() != 0 || ::access("/dev/net/tun", R_OK | W_OK) != 0) {
        GTEST_SKIP() << "needs root and /dev/net/tun (network namespaces, TUN devices)";
    }
    const unsigned cpus = std::thread::hardware_concurrency();
    Namespaces ns;
    ASSERT_TRUE(ns.ok()) << "cannot create the namespace pair";
    Side a = side_a(ns);
    Side b = side_b(ns);
    ASSERT_TRUE(start(a));
    ASSERT_TRUE(start(b));
    const Spi fallback = pair(a, b, ResourceId::none(), ResourceId::none(), 1);
    const Spi cpu0 = pair(a, b, ResourceId::cpu(0), ResourceId::cpu(1), 10);
    const Spi cpu1 = pair(a, b, ResourceId::cpu(1), ResourceId::cpu(0), 20);
    policies(a);
    policies(b);
    // The receiver in b.
    UniqueFd rx = receiver(b, true, 200000);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // workers apply commands
    constexpr int kPerCpu = 200;
    const unsigned used = std::min(cpus, 2U);
    for (unsigned k = 0; k < used; ++k) {
        send_from_cpu(a.ns, k, kPerCpu);
    }
    int received = 0;
    char buf[512];
    while (::recv(rx.get(), buf, sizeof buf, 0) > 0) {
        ++received;
    }
    EXPECT_EQ(received, kPerCpu * static_cast<int>(used));
    // Each CPU's datagrams went on its own member; none on the fallback; B received them on
    // the worker its SPI names, without replay or integrity drops.
    EXPECT_EQ(a.dp->find(cpu0, false)->packets(), static_cast<std::uint64_t>(kPerCpu));
    if (used == 2) {
        EXPECT_EQ(a.dp->find(cpu1, false)->packets(), static_cast<std::uint64_t>(kPerCpu));
    }
    EXPECT_EQ(a.dp->find(fallback, false)->packets(), 0U);
    EXPECT_EQ(b.dp->find(cpu0, true)->packets(), static_cast<std::uint64_t>(kPerCpu));
    EXPECT_EQ(b.dp->stats(1).rx_packets, static_cast<std::uint64_t>(kPerCpu));  // cpu0's peer
    for (unsigned k = 0; k < 2; ++k) {
        const auto s = b.dp->stats(k);
        EXPECT_EQ(s.drops[static_cast<std::size_t>(Drop::kReplay)], 0U);
        EXPECT_EQ(s.drops[static_cast<std::size_t>(Drop::kIntegrity)], 0U);
    }
    // Removing the members under way moves the traffic to the fallback (and raises acquires).
    a.dp->remove(cpu0, false);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    send_from_cpu(a.ns, 0, 20);
    int later = 0;
    while (::recv(rx.get(), buf, sizeof buf, 0) > 0) {
        ++later;
    }
    EXPECT_EQ(later, 20);
    EXPECT_EQ(a.dp->find(fallback, false)->packets(), 20U);
    bool acquired = false;
    for (const Event& e : a.dp->events().drain()) {
        if (const auto* acq = std::get_if<AcquireEvent>(&e)) {
            acquired = acquired || (!acq->resource.is_none() && acq->resource.index() == 0);
        }
    }
    EXPECT_TRUE(acquired);
}

/// An IPv4/UDP packet 10.99.1.1 -> 10.99.2.1:9000 of `size` bytes (UDP checksum 0), tagged `n`.
void inner_packet(PacketBuf& p, std::size_t size, std::uint8_t n) {
    p.reset();
    std::uint8_t* d = p.fill(size);
    std::memset(d, n, size);
    const std::uint8_t ip[20] = {0x45,
                                 0,
                                 static_cast<std::uint8_t>(size >> 8U),
                                 static_cast<std::uint8_t>(size),
                                 0,
                                 n,
                                 0x40,
                                 0,
                                 64,
                                 17,
                                 0,
                                 0,
                                 10,
                                 99,
                                 1,
                                 1,
                                 10,
                                 99,
                                 2,
                                 1};
    std::memcpy(d, ip, sizeof ip);
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < 20; i += 2) {
        sum += (std::uint32_t{d[i]} << 8U) | d[i + 1];
    }
    sum = (sum & 0xFFFFU) + (sum >> 16U);
    sum = (sum & 0xFFFFU) + (sum >> 16U);
    d[10] = static_cast<std::uint8_t>(~sum >> 8U);
    d[11] = static_cast<std::uint8_t>(~sum);
    const std::uint8_t udp[8] = {0x30,
                                 0x39,
                                 0x23,
                                 0x28,
                                 static_cast<std::uint8_t>((size - 20) >> 8U),
                                 static_cast<std::uint8_t>(size - 20),
                                 0,
                                 0};
    std::memcpy(d + 20, udp, sizeof udp);
}

// The kernel hands a GSO/GRO batch to the socket the reuseport program picks by its first SPI;
// the datagrams of the other worker's SPI in it must reach that worker (handoff.h). One
// UDP_SEGMENT send of 8 ESP datagrams alternating between two SAs owned by different workers
// crosses the veth as one skb and arrives as one super-datagram.
TEST(DataplaneIo, AMixedGroBatchReachesEachSpisWorker) {
    if (::geteuid() != 0 || ::access("/dev/net/tun", R_OK | W_OK) != 0) {
        GTEST_SKIP() << "needs root and /dev/net/tun (network namespaces, TUN devices)";
    }
    Namespaces ns;
    ASSERT_TRUE(ns.ok()) << "cannot create the namespace pair";
    Side a = side_a(ns);
    Side b = side_b(ns);
    ASSERT_TRUE(start(b));
    const std::array<Spi, 2> spi{b.dp->allocate_spi(ResourceId::cpu(0)),
                                 b.dp->allocate_spi(ResourceId::cpu(1))};
    ASSERT_EQ(b.dp->owner(spi[0]), 0U);
    ASSERT_EQ(b.dp->owner(spi[1]), 1U);
    std::array<std::unique_ptr<SaCrypto>, 2> tx;
    for (unsigned k = 0; k < 2; ++k) {
        SaConfig c = config(b, a, spi[k], true, ResourceId::cpu(k),
                            static_cast<std::uint8_t>(10 * k + 3));
        tx[k] = SaCrypto::create(registry(), c.encr_id, c.encr_key_bits, 0, c.encr_key.view(), {},
                                 nullptr)
                        .value();
        ASSERT_TRUE(b.dp->install(std::move(c)));
    }
    policies(b);
    UniqueFd rx = receiver(b, false, 300000);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // workers apply commands
    // 8 ESP datagrams of equal size, SAs 0 1 0 1 ..., in one buffer.
    constexpr int kCount = 8;
    Bytes wire;
    std::size_t seg = 0;
    for (int i = 0; i < kCount; ++i) {
        PacketBuf p;
        inner_packet(p, 200, static_cast<std::uint8_t>(i));
        const unsigned k = static_cast<unsigned>(i) % 2;
        ASSERT_EQ(encapsulate(*tx[k], spi[k], static_cast<std::uint64_t>(i / 2 + 1), false,
                              Mode::kTunnel, p),
                  Drop::kNone);
        seg = p.size();
        wire.insert(wire.end(), p.data(), p.data() + p.size());
    }
    const bool sent = in_netns(a.ns, [&] {
        UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_in dst{};
        dst.sin_family = AF_INET;
        dst.sin_port = htons(4500);
        dst.sin_addr.s_addr = htonl(0x0a630002);  // 10.99.0.2
        const int size = static_cast<int>(seg);
        if (::setsockopt(fd.get(), IPPROTO_UDP, UDP_SEGMENT, &size, sizeof size) != 0) {
            return false;
        }
        return ::sendto(fd.get(), wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&dst),
                        sizeof dst) == static_cast<ssize_t>(wire.size());  // NOLINT
    });
    ASSERT_TRUE(sent) << "UDP_SEGMENT send failed";
    int received = 0;
    char buf[512];
    while (received<kCount&& ::recv(rx.get(), buf, sizeof buf, 0)> 0) {
        ++received;
    }
    EXPECT_EQ(received, kCount);
    EXPECT_EQ(b.dp->find(spi[0], true)->packets(), 4U);
    EXPECT_EQ(b.dp->find(spi[1], true)->packets(), 4U);
    // One worker got the batch and passed the other SA's four on.
    EXPECT_EQ(b.dp->stats(0).handed_off + b.dp->stats(1).handed_off, 4U);
    EXPECT_EQ(b.dp->stats(0).rx_packets, 4U);
    EXPECT_EQ(b.dp->stats(1).rx_packets, 4U);
    for (unsigned k = 0; k < 2; ++k) {
        const auto s = b.dp->stats(k);
        for (std::size_t d = 1; d < s.drops.size(); ++d) {
            if (static_cast<Drop>(d) == Drop::kNoRoute) {
                continue;  // outbound: what the kernel itself sends into the TUN (IPv6 ND, ...)
            }
            EXPECT_EQ(s.drops[d], 0U)
                    << "worker " << k << " dropped as " << to_string(static_cast<Drop>(d));
        }
    }
}

}  // namespace
}  // namespace ikeplex::esp
