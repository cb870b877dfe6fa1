// Memory per established IKE SA + Child SA (issue 17): two IkeSaManager instances wired back
// to back (real codec and crypto, no I/O), N initiator connections (each its own identity) to
// one responder connection, PSK, X25519, AES-GCM-128 for IKE and ESP, one Child SA each.
//
// Every call into a manager runs between two mallinfo2() readings, with its Output consumed
// and freed inside (datagrams are copied into a preallocated ring): the difference is the heap
// that side kept, so the responder's bytes are counted apart from the initiator's.
// Prints "G8 info ..." lines: heap per SA after IKE_SA_INIT (half-open) and after IKE_AUTH,
// and what is left after every SA is deleted. Not a Google Benchmark: it ignores its
// arguments; IKEPLEX_BENCH_SMOKE=1 (scripts/test.sh) runs 50 SAs instead of 2000,
// IKEPLEX_MEMORY_SAS=N runs N.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <malloc.h>

#include "ike/child_sa.h"
#include "ike/handshake.h"
#include "ike/ike_sa.h"
#include "ike/manager.h"
#include "util/log.h"
#include "util/random.h"

namespace {

using namespace ikeplex;

std::int64_t heap_in_use() {
    return static_cast<std::int64_t>(mallinfo2().uordblks);
}

/// What the process holds: heap in use, heap taken from the system, resident set (bytes).
struct Process {
    std::int64_t in_use;
    std::int64_t arena;
    std::int64_t rss;
};

Process process() {
    const struct mallinfo2 m = mallinfo2();
    long pages = 0;
    long resident = 0;
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) {
            resident = 0;
        }
        std::fclose(f);
    }
    return Process{static_cast<std::int64_t>(m.uordblks),
                   static_cast<std::int64_t>(m.arena + m.hblkhd), resident * 4096};
}

void print_process(const char* when, const Process& start, std::size_t n) {
    const Process p = process();
    std::printf(
            "G8 info process %s in_use_kib_per_sa=%.2f arena_kib_per_sa=%.2f "
            "rss_kib_per_sa=%.2f (both sides)\n",
            when, static_cast<double>(p.in_use - start.in_use) / 1024.0 / static_cast<double>(n),
            static_cast<double>(p.arena - start.arena) / 1024.0 / static_cast<double>(n),
            static_cast<double>(p.rss - start.rss) / 1024.0 / static_cast<double>(n));
}

struct Side {
    Side(const crypto::Registry& registry, std::uint64_t seed, const char* address)
        : random(seed),
          spis(random),
          manager(registry, random, spis, ike::Settings{}),
          endpoint{*IpAddress::parse(address), 500} {}
    DeterministicRandom random;
    ike::RandomSpiAllocator spis;
    ike::IkeSaManager manager;
    Endpoint endpoint;
    std::int64_t heap{0};  // bytes this side's calls kept
};

/// Datagrams in flight, FIFO, in preallocated slots (no allocation while a side is measured).
class Ring {
public:
    struct Slot {
        std::array<std::uint8_t, 4096> data{};
        std::size_t size{0};
        bool to_responder{false};
    };
    Ring() : slots_(256) {}
    void push(ByteView d, bool to_responder) {
        Slot& s = slots_[(head_ + count_++) % slots_.size()];
        if (d.size() > s.data.size() || count_ > slots_.size()) {
            std::fprintf(stderr, "ring overflow\n");
            std::abort();
        }
        std::memcpy(s.data.data(), d.data(), d.size());
        s.size = d.size();
        s.to_responder = to_responder;
    }
    [[nodiscard]] bool empty() const { return count_ == 0; }
    Slot& front() { return slots_[head_]; }
    void pop() {
        head_ = (head_ + 1) % slots_.size();
        --count_;
    }

private:
    std::vector<Slot> slots_;
    std::size_t head_{0};
    std::size_t count_{0};
};

struct Bench {
    explicit Bench(const crypto::Registry& registry)
        : ini(registry, 1, "10.99.0.1"), res(registry, 2, "10.99.0.2") {}

    template <class F>
    void run(Side& s, F&& f) {
        const std::int64_t before = heap_in_use();
        {
            ike::Output out;
            ike::Step step{now, out, 1'800'000'000};
            f(step);
            for (const ike::OutDatagram& d : out.datagrams) {
                ring.push(d.data, &s == &ini);
            }
        }
        s.heap += heap_in_use() - before;
    }
    /// Delivers datagrams until none is in flight.
    void pump() {
        while (!ring.empty()) {
            deliver_one();
        }
    }
    void deliver_one() {
        Ring::Slot& d = ring.front();
        Side& to = d.to_responder ? res : ini;
        Side& from = d.to_responder ? ini : res;
        const ByteView data(d.data.data(), d.size);
        run(to, [&](ike::Step& s) { to.manager.on_datagram(data, to.endpoint, from.endpoint, s); });
        ring.pop();
    }

    Side ini;
    Side res;
    Ring ring;
    ike::TimePoint now{std::chrono::milliseconds(1000).count()};
};

ike::TrafficSelector ts(const char* text) {
    return *ike::TrafficSelector::parse(text);
}

ike::PeerConfig conn(const std::string& name, bool initiator) {
    ike::PeerConfig c;
    c.name = name;
    c.local_addrs = {*IpAddress::parse(initiator ? "10.99.0.1" : "10.99.0.2")};
    if (initiator) {
        c.remote_addrs = {*IpAddress::parse("10.99.0.2")};
    }
    c.ike_proposals = *ike::parse_proposals("aes128gcm16-prfsha256-x25519", wire::ProtocolId::kIke);
    c.local.id = *ike::Identity::parse(initiator ? name + "@bench" : "10.99.0.2");
    c.remote.id = *ike::Identity::parse(initiator ? "10.99.0.2" : "%any");
    ike::ChildConfig child;
    child.name = "net";
    child.local_ts = {ts(initiator ? "10.99.1.0/24" : "10.99.2.0/24")};
    child.remote_ts = {ts(initiator ? "10.99.2.0/24" : "10.99.1.0/24")};
    child.esp_proposals = *ike::parse_proposals("aes128gcm16", wire::ProtocolId::kEsp);
    c.children.push_back(std::move(child));
    return c;
}

ike::Credentials psk() {
    ike::Credentials c;
    const std::string secret = "sharedsecret-sharedsecret";
    c.psks.push_back(ike::Credentials::Psk{
            {},
            SecretBytes::copy_of(ByteView(reinterpret_cast<const std::uint8_t*>(secret.data()),
                                          secret.size()))});
    return c;
}

double kib(std::int64_t bytes, std::size_t n) {
    return static_cast<double>(bytes) / 1024.0 / static_cast<double>(n);
}

void print_sizes() {
    std::printf(
            "G8 info sizeof IkeSa=%zu ChildSa=%zu IkeCrypto=%zu SkCipher=%zu Handshake=%zu "
            "Prf=%zu\n",
            sizeof(ike::IkeSa), sizeof(ike::ChildSa), sizeof(ike::IkeCrypto), sizeof(ike::SkCipher),
            sizeof(ike::Handshake), sizeof(crypto::Prf));
}

int run(std::size_t n) {
    auto registry = crypto::Registry::create();
    if (!registry) {
        std::fprintf(stderr, "registry: %s\n", registry.error().detail);
        return 1;
    }
    Bench b(**registry);
    std::vector<ike::PeerConfig> conns;
    for (std::size_t i = 0; i < n; ++i) {
        conns.push_back(conn("c" + std::to_string(i), true));
    }
    b.ini.manager.load(std::move(conns));
    b.res.manager.load({conn("any", false)});
    b.ini.manager.set_credentials(psk());
    b.res.manager.set_credentials(psk());

    std::int64_t half_open = 0;
    std::vector<std::uint32_t> ids;
    ids.reserve(n);
    const Process start = process();
    for (std::size_t i = 0; i < n; ++i) {
        const std::string name = "c" + std::to_string(i);
        b.run(b.ini, [&](ike::Step& s) { ids.push_back(*b.ini.manager.initiate(name, "net", s)); });
        const std::int64_t before = b.res.heap;
        b.deliver_one();  // IKE_SA_INIT request: the responder keeps a half-open SA
        half_open += b.res.heap - before;
        b.pump();
    }
    std::size_t children = 0;
    for (const ike::IkeSa* sa : b.res.manager.sas()) {
        children += sa->state() == ike::IkeState::kEstablished ? sa->children().size() : 0;
    }
    if (children != n) {
        std::fprintf(stderr, "only %zu of %zu Child SAs established\n", children, n);
        return 1;
    }
    const std::int64_t established = b.res.heap;
    std::printf(
            "G8 info sas=%zu half_open_kib_per_sa=%.2f heap_kib_per_sa=%.2f "
            "initiator_kib_per_sa=%.2f\n",
            n, kib(half_open, n), kib(established, n), kib(b.ini.heap, n));
    print_process("established", start, n);

    for (std::uint32_t id : ids) {
        b.run(b.ini, [&](ike::Step& s) { (void)b.ini.manager.terminate_ike(id, s); });
        b.pump();
    }
    std::printf(
            "G8 info after_delete responder_sas=%zu responder_kept_bytes=%lld "
            "initiator_kept_bytes=%lld (OpenSSL's shared caches blur the split)\n",
            b.res.manager.sas().size(), static_cast<long long>(b.res.heap),
            static_cast<long long>(b.ini.heap));
    print_process("deleted", start, n);
    malloc_trim(0);
    print_process("deleted+malloc_trim", start, n);
    return 0;
}

}  // namespace

int main() {
    spdlog::set_level(spdlog::level::off);
    print_sizes();
    std::size_t n = std::getenv("IKEPLEX_BENCH_SMOKE") != nullptr ? 50 : 2000;
    if (const char* sas = std::getenv("IKEPLEX_MEMORY_SAS")) {
        n = std::strtoul(sas, nullptr, 10);
    }
    return run(n);
}
