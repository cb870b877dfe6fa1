// Two data planes joined in process (no TUN, no sockets): gateway A's workers encapsulate,
// gateway B's workers decapsulate, with the SA tables, policies, steering rule, fallback and
// per-CPU routing, acquires, lifetimes and rekey overlap of the real code.
#include "esp/dataplane.h"

#include <algorithm>
#include <set>
#include <utility>

#include <gtest/gtest.h>

#include "kernel/userspace_backend.h"

namespace ikeplex::esp {
namespace {

constexpr std::uint16_t kGcm16 = 20;

const crypto::Registry& registry() {
    static const auto r = crypto::Registry::create().value();
    return *r;
}

Selector sel(const char* text) {
    return kernel::to_selector(ike::TrafficSelector::parse(text).value());
}

Bytes udp4(const char* src, const char* dst, std::uint16_t id, std::size_t payload = 100) {
    Bytes p(28 + payload, 0);
    p[0] = 0x45;
    p[2] = static_cast<std::uint8_t>(p.size() >> 8);
    p[3] = static_cast<std::uint8_t>(p.size());
    p[4] = static_cast<std::uint8_t>(id >> 8);
    p[5] = static_cast<std::uint8_t>(id);
    p[8] = 64;
    p[9] = 17;
    const auto s = IpAddress::parse(src).value();
    const auto d = IpAddress::parse(dst).value();
    std::copy(s.bytes().begin(), s.bytes().end(), p.begin() + 12);
    std::copy(d.bytes().begin(), d.bytes().end(), p.begin() + 16);
    p[21] = 7;
    p[23] = 9;
    for (std::size_t i = 28; i < p.size(); ++i) {
        p[i] = static_cast<std::uint8_t>(i * 7 + id);
    }
    return p;
}

struct Gateway {
    explicit Gateway(unsigned workers) {
        DataplaneOptions o;
        o.workers = workers;
        o.io = false;
        dp = Dataplane::create(registry(), o).value();
    }
    void drain() {
        for (unsigned k = 0; k < dp->workers(); ++k) {
            dp->drain(k);
        }
    }
    std::unique_ptr<Dataplane> dp;
};

/// Both directions of one Child SA between A (10.99.0.1, 10.99.1.0/24) and B (10.99.0.2,
/// 10.99.2.0/24): A's resource `ra`, B's resource `rb`.
struct ChildPair {
    Spi a_in, a_out;  // A's inbound SPI (chosen by A) and outbound SPI (chosen by B)
};

SaConfig config(Spi spi, bool inbound, ResourceId r, bool a_side, const Bytes& key,
                Lifetime life = {}) {
    SaConfig c;
    c.child_id = spi.value();
    c.reqid = ReqId(1);
    c.spi = spi;
    c.inbound = inbound;
    c.resource = r;
    c.replay_window = 64;
    const Endpoint a{IpAddress::parse("10.99.0.1").value(), 4500};
    const Endpoint b{IpAddress::parse("10.99.0.2").value(), 4500};
    c.local = a_side ? a : b;
    c.peer = a_side ? b : a;
    c.encr_id = kGcm16;
    c.encr_key_bits = 128;
    c.encr_key = SecretBytes::copy_of(key);
    c.lifetime = life;
    c.local_ts = {sel(a_side ? "10.99.1.0/24" : "10.99.2.0/24")};
    c.remote_ts = {sel(a_side ? "10.99.2.0/24" : "10.99.1.0/24")};
    return c;
}

Bytes key_of(std::uint8_t seed) {
    Bytes k(20);
    for (std::size_t i = 0; i < k.size(); ++i) {
        k[i] = static_cast<std::uint8_t>(seed * 31 + i);
    }
    return k;
}

ChildPair install_pair(Gateway& a, Gateway& b, ResourceId ra, ResourceId rb, std::uint8_t seed,
                       Lifetime life = {}) {
    ChildPair p;
    p.a_in = a.dp->allocate_spi(ra);
    p.a_out = b.dp->allocate_spi(rb);
    const Bytes k_ab = key_of(seed);
    const Bytes k_ba = key_of(static_cast<std::uint8_t>(seed + 100));
    EXPECT_TRUE(a.dp->install(config(p.a_out, false, ra, true, k_ab, life)));
    EXPECT_TRUE(a.dp->install(config(p.a_in, true, ra, true, k_ba)));
    EXPECT_TRUE(b.dp->install(config(p.a_out, true, rb, false, k_ab)));
    EXPECT_TRUE(b.dp->install(config(p.a_in, false, rb, false, k_ba)));
    return p;
}

void policies(Gateway& g, bool a_side, bool per_cpu) {
    Policy p;
    p.reqid = ReqId(1);
    p.local = {sel(a_side ? "10.99.1.0/24" : "10.99.2.0/24")};
    p.remote = {sel(a_side ? "10.99.2.0/24" : "10.99.1.0/24")};
    p.per_cpu = per_cpu;
    g.dp->set_policies({p});
}

/// Encapsulates `inner` on A's worker `k`; the ESP datagrams (copies) and their SPIs.
std::vector<PacketBuf> send(Gateway& a, unsigned k, const std::vector<Bytes>& inner,
                            std::int64_t now_ms = 1000) {
    std::vector<PacketBuf> bufs(inner.size());
    for (std::size_t i = 0; i < inner.size(); ++i) {
        bufs[i].assign(inner[i]);
    }
    std::vector<Outgoing> out;
    a.dp->core(k).outbound(bufs, out, now_ms);
    std::vector<PacketBuf> wire(out.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
        EXPECT_TRUE(out[i].udp);
        EXPECT_EQ(out[i].peer.address.to_string(), "10.99.0.2");
        wire[i].assign(out[i].buf->bytes());
    }
    return wire;
}

Spi spi_of(const PacketBuf& p) {
    return peek_header(p.bytes())->spi;
}

/// Delivers datagrams to the worker of B that the steering rule picks; returns inner packets.
std::vector<Bytes> deliver(Gateway& b, std::vector<PacketBuf>& wire, std::int64_t now_ms = 1000) {
    std::vector<Bytes> got;
    for (PacketBuf& w : wire) {
        std::vector<PacketBuf*> inner;
        b.dp->core(b.dp->owner(spi_of(w))).inbound(std::span<PacketBuf>(&w, 1), inner, now_ms);
        for (PacketBuf* p : inner) {
            got.emplace_back(p->bytes().begin(), p->bytes().end());
        }
    }
    return got;
}

std::vector<Bytes> packets(unsigned n, std::uint16_t first_id) {
    std::vector<Bytes> v;
    for (unsigned i = 0; i < n; ++i) {
        v.push_back(udp4("10.99.1.5", "10.99.2.9", static_cast<std::uint16_t>(first_id + i)));
    }
    return v;
}

std::uint64_t drops(const Dataplane& dp, unsigned k, Drop d) {
    return dp.stats(k).drops[static_cast<std::size_t>(d)];
}

class TwoGateways : public ::testing::Test {
protected:
    TwoGateways() : a(2), b(2) {}

    /// A pair of `r` (both sides), the group's policies, then the pair that replaces it: a
    /// rekey up to the old SA's Delete. {old, new}.
    std::pair<ChildPair, ChildPair> pair_and_replacement(ResourceId r) {
        const ChildPair old = install_pair(a, b, r, r, 1);
        policies(a, true, true);
        policies(b, false, true);
        a.drain();
        b.drain();
        const ChildPair fresh = install_pair(a, b, r, r, 2);
        a.drain();
        b.drain();
        return {old, fresh};
    }

    Gateway a;
    Gateway b;
};

TEST_F(TwoGateways, EachCpuSendsOnItsOwnMemberAndNothingOnTheFallback) {
    const ChildPair fb = install_pair(a, b, ResourceId::none(), ResourceId::none(), 1);
    const ChildPair m0 = install_pair(a, b, ResourceId::cpu(0), ResourceId::cpu(1), 2);
    const ChildPair m1 = install_pair(a, b, ResourceId::cpu(1), ResourceId::cpu(0), 3);
    policies(a, true, true);
    policies(b, false, true);
    a.drain();
    b.drain();
    const auto p0 = packets(10, 100);
    const auto p1 = packets(7, 200);
    auto w0 = send(a, 0, p0);
    auto w1 = send(a, 1, p1);
    ASSERT_EQ(w0.size(), 10U);
    ASSERT_EQ(w1.size(), 7U);
    for (const auto& w : w0) {
        EXPECT_EQ(spi_of(w), m0.a_out);
    }
    for (const auto& w : w1) {
        EXPECT_EQ(spi_of(w), m1.a_out);
    }
    // B's inbound SPIs name B's worker of the member's resource: the steering rule.
    EXPECT_EQ(b.dp->owner(m0.a_out), 1U);
    EXPECT_EQ(b.dp->owner(m1.a_out), 0U);
    EXPECT_EQ(deliver(b, w0), p0);
    EXPECT_EQ(deliver(b, w1), p1);
    EXPECT_EQ(a.dp->find(m0.a_out, false)->packets(), 10U);
    EXPECT_EQ(a.dp->find(m1.a_out, false)->packets(), 7U);
    EXPECT_EQ(a.dp->find(fb.a_out, false)->packets(), 0U);
    EXPECT_EQ(b.dp->find(m0.a_out, true)->packets(), 10U);
    EXPECT_EQ(a.dp->stats(0).fallback_tx, 0U);
    EXPECT_EQ(a.dp->stats(1).fallback_tx, 0U);
    EXPECT_TRUE(a.dp->events().drain().empty());  // no acquires: every CPU has its SA
    EXPECT_EQ(drops(*b.dp, 0, Drop::kReplay) + drops(*b.dp, 1, Drop::kReplay), 0U);
}

TEST_F(TwoGateways, FallbackIsSharedAndRaisesOneAcquirePerCpu) {
    const ChildPair fb = install_pair(a, b, ResourceId::none(), ResourceId::none(), 1);
    policies(a, true, true);
    policies(b, false, true);
    a.drain();
    b.drain();
    // Both workers draw sequence numbers from the one counter: B sees no duplicates.
    auto w0 = send(a, 0, packets(20, 1));
    auto w1 = send(a, 1, packets(20, 100));
    auto w0b = send(a, 0, packets(5, 300), 1500);  // inside the acquire interval
    EXPECT_EQ(deliver(b, w0).size(), 20U);
    EXPECT_EQ(deliver(b, w1).size(), 20U);
    EXPECT_EQ(deliver(b, w0b).size(), 5U);
    EXPECT_EQ(a.dp->find(fb.a_out, false)->last_seq(), 45U);
    EXPECT_EQ(a.dp->stats(0).fallback_tx, 25U);
    std::vector<std::uint32_t> cpus;
    for (const Event& e : a.dp->events().drain()) {
        const auto* acq = std::get_if<AcquireEvent>(&e);
        ASSERT_NE(acq, nullptr);
        EXPECT_EQ(acq->reqid, ReqId(1));
        ASSERT_FALSE(acq->resource.is_none());
        cpus.push_back(acq->resource.index());
    }
    EXPECT_EQ(cpus, (std::vector<std::uint32_t>{0, 1}));
    // After the interval a CPU still without its SA asks again.
    (void)send(a, 0, packets(1, 400), 2100);
    EXPECT_EQ(a.dp->events().drain().size(), 1U);
}

TEST_F(TwoGateways, PolicyWithoutSaDropsAndRaisesACpuLessAcquire) {
    policies(a, true, false);
    a.drain();
    EXPECT_TRUE(send(a, 0, packets(3, 1)).empty());
    EXPECT_EQ(drops(*a.dp, 0, Drop::kNoSa), 3U);
    const auto ev = a.dp->events().drain();
    ASSERT_EQ(ev.size(), 1U);
    const auto& acq = std::get<AcquireEvent>(ev[0]);
    EXPECT_TRUE(acq.resource.is_none());
    EXPECT_EQ(acq.flow.dst[3], 9);
    // Traffic no policy covers is not ours.
    EXPECT_TRUE(send(a, 0, {udp4("10.98.0.1", "10.99.2.9", 1)}).empty());
    EXPECT_EQ(drops(*a.dp, 0, Drop::kNoRoute), 1U);
}

TEST_F(TwoGateways, ReplaysTamperingAndWrongWorkersAreDropped) {
    const ChildPair m0 = install_pair(a, b, ResourceId::cpu(0), ResourceId::cpu(0), 1);
    policies(a, true, true);
    policies(b, false, true);
    a.drain();
    b.drain();
    auto w = send(a, 0, packets(3, 1));
    std::vector<PacketBuf> again(1);
    again[0].assign(w[0].bytes());
    std::vector<PacketBuf> tampered(1);
    tampered[0].assign(w[1].bytes());
    tampered[0].data()[tampered[0].size() - 20] ^= 1;
    std::vector<PacketBuf> wrong_worker(1);
    wrong_worker[0].assign(w[2].bytes());
    EXPECT_EQ(deliver(b, w).size(), 3U);
    EXPECT_TRUE(deliver(b, again).empty());
    EXPECT_EQ(drops(*b.dp, 0, Drop::kReplay), 1U);
    EXPECT_EQ(b.dp->find(m0.a_out, true)->drops(SaDrop::kReplay), 1U);
    // A tampered copy of a packet not yet seen fails the ICV.
    auto fresh = send(a, 0, packets(1, 50));
    fresh[0].data()[fresh[0].size() - 20] ^= 1;
    EXPECT_TRUE(deliver(b, fresh).empty());
    EXPECT_EQ(drops(*b.dp, 0, Drop::kIntegrity), 1U);
    EXPECT_EQ(b.dp->find(m0.a_out, true)->drops(SaDrop::kIntegrity), 1U);
    // The worker that does not own the SPI has no such SA.
    std::vector<PacketBuf*> inner;
    b.dp->core(1).inbound(wrong_worker, inner, 1000);
    EXPECT_TRUE(inner.empty());
    EXPECT_EQ(drops(*b.dp, 1, Drop::kNoSa), 1U);
}

TEST_F(TwoGateways, RekeyIsHitlessOldSaUntilDeletedThenTheNewOne) {
    const auto [old, fresh] = pair_and_replacement(ResourceId::cpu(0));
    // Until the old SA is deleted, traffic stays on it: the peer may not have the new inbound
    // SA yet (RFC 7296 §2.8).
    auto during = send(a, 0, packets(4, 1));
    for (const auto& w : during) {
        EXPECT_EQ(spi_of(w), old.a_out);
    }
    auto in_flight = send(a, 0, packets(3, 5));  // sent on the old SA, delivered after the delete
    a.dp->remove(old.a_out, false);
    b.dp->remove(old.a_out, true);
    a.drain();
    b.drain();
    b.dp->core(0).expire_retired(10'000);  // the grace period starts now
    auto after = send(a, 0, packets(4, 10));
    for (const auto& w : after) {
        EXPECT_EQ(spi_of(w), fresh.a_out);
    }
    EXPECT_EQ(deliver(b, during).size(), 4U);
    EXPECT_EQ(deliver(b, after).size(), 4U);
    // The deleted inbound SA still accepts what was in flight, for the grace period only.
    std::vector<PacketBuf> late(1);
    late[0].assign(in_flight[2].bytes());
    in_flight.pop_back();
    EXPECT_EQ(deliver(b, in_flight, 10'500).size(), 2U);
    b.dp->core(0).expire_retired(12'001);
    EXPECT_TRUE(deliver(b, late, 12'001).empty());
    EXPECT_EQ(drops(*b.dp, 0, Drop::kNoSa), 1U);
    EXPECT_EQ(drops(*b.dp, 0, Drop::kReplay), 0U);
}

TEST_F(TwoGateways, FallbackRekeyIsHitlessOnEveryWorker) {
    // The fallback's outbound SA is shared by every worker: each keeps the old one until it is
    // deleted, then each takes the new one; B accepts what was in flight on the old one.
    const auto [old, fresh] = pair_and_replacement(ResourceId::none());
    for (unsigned k = 0; k < 2; ++k) {
        auto during = send(a, k, packets(3, static_cast<std::uint16_t>(1 + 10 * k)));
        ASSERT_EQ(during.size(), 3U);
        for (const auto& w : during) {
            EXPECT_EQ(spi_of(w), old.a_out) << "worker " << k;
        }
        EXPECT_EQ(deliver(b, during).size(), 3U);
    }
    auto in_flight = send(a, 1, packets(2, 50));
    a.dp->remove(old.a_out, false);
    b.dp->remove(old.a_out, true);
    a.drain();
    b.drain();
    b.dp->core(b.dp->owner(old.a_out)).expire_retired(10'000);  // the grace period starts now
    for (unsigned k = 0; k < 2; ++k) {
        auto after = send(a, k, packets(3, static_cast<std::uint16_t>(100 + 10 * k)));
        ASSERT_EQ(after.size(), 3U);
        for (const auto& w : after) {
            EXPECT_EQ(spi_of(w), fresh.a_out) << "worker " << k;
        }
        EXPECT_EQ(deliver(b, after).size(), 3U);
    }
    EXPECT_EQ(deliver(b, in_flight, 10'500).size(), 2U);
    for (unsigned k = 0; k < 2; ++k) {
        EXPECT_EQ(drops(*b.dp, k, Drop::kNoSa), 0U);
        EXPECT_EQ(drops(*b.dp, k, Drop::kReplay), 0U);
        EXPECT_EQ(drops(*b.dp, k, Drop::kIntegrity), 0U);
    }
}

TEST_F(TwoGateways, LifetimesByPacketsAndBytesReportSoftThenHard) {
    (void)install_pair(a, b, ResourceId::none(), ResourceId::none(), 1);
    const ChildPair m0 =
            install_pair(a, b, ResourceId::cpu(0), ResourceId::cpu(0), 2, Lifetime{0, 0, 5, 8});
    policies(a, true, true);
    policies(b, false, true);
    a.drain();
    b.drain();
    auto w = send(a, 0, packets(10, 1));
    ASSERT_EQ(w.size(), 10U);  // after the hard limit traffic goes to the fallback
    EXPECT_EQ(a.dp->find(m0.a_out, false)->packets(), 8U);
    EXPECT_NE(spi_of(w[9]), m0.a_out);
    std::vector<std::pair<bool, bool>> expires;  // (hard, inbound)
    for (const Event& e : a.dp->events().drain()) {
        if (const auto* x = std::get_if<ExpireEvent>(&e)) {
            EXPECT_EQ(x->spi, m0.a_out);
            expires.emplace_back(x->hard, x->inbound);
        }
    }
    EXPECT_EQ(expires, (std::vector<std::pair<bool, bool>>{{false, false}, {true, false}}));
}

TEST_F(TwoGateways, InnerPacketsOutsideTheSelectorsAreRefused) {
    (void)install_pair(a, b, ResourceId::none(), ResourceId::none(), 1);
    // A's policy is wider than the SA's selectors (a misbehaving peer would do this).
    Policy wide;
    wide.reqid = ReqId(1);
    wide.local = {sel("10.0.0.0/8")};
    wide.remote = {sel("10.0.0.0/8")};
    a.dp->set_policies({wide});
    policies(b, false, false);
    a.drain();
    b.drain();
    auto w = send(a, 0, {udp4("10.50.0.1", "10.99.2.9", 1)});
    ASSERT_EQ(w.size(), 1U);
    EXPECT_TRUE(deliver(b, w).empty());
    EXPECT_EQ(drops(*b.dp, b.dp->owner(spi_of(w[0])), Drop::kPolicy), 1U);
}

/// Encapsulates `inner` on A's worker `k` and returns the Outgoing descriptions with copies.
std::vector<std::pair<Outgoing, PacketBuf>> send_raw(Gateway& a, unsigned k,
                                                     const std::vector<Bytes>& inner) {
    std::vector<PacketBuf> bufs(inner.size());
    for (std::size_t i = 0; i < inner.size(); ++i) {
        bufs[i].assign(inner[i]);
    }
    std::vector<Outgoing> out;
    a.dp->core(k).outbound(bufs, out, 1000);
    std::vector<std::pair<Outgoing, PacketBuf>> got(out.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
        got[i].first = out[i];
        got[i].second.assign(out[i].buf->bytes());
        got[i].first.buf = nullptr;
    }
    return got;
}

// MOBIKE (RFC 4555 §3.5) through the userspace backend: UpdateSaAddresses moves each direction
// in place. A's fallback SA (used by both workers) and its per-CPU member go to new outer
// addresses and lose UDP encapsulation, with raw ESP: the sequence numbers continue, B's replay
// window still refuses what it saw before the move, and a move of an SA that is not there fails.
TEST_F(TwoGateways, UpdateSaAddressesMovesSasInPlaceKeepingSequenceAndReplayState) {
    DataplaneOptions o;
    o.workers = 2;
    o.io = false;
    o.raw_esp = true;
    auto backend = kernel::UserspaceBackend::create(registry(), o).value();
    Gateway ga(1);
    ga.dp.reset(&backend->dataplane());  // borrowed: the backend owns it
    struct Borrowed {
        explicit Borrowed(Gateway& x) : g(x) {}
        Gateway& g;
        Borrowed(const Borrowed&) = delete;
        Borrowed& operator=(const Borrowed&) = delete;
        ~Borrowed() { (void)g.dp.release(); }
    } borrowed{ga};
    const ChildPair fb = install_pair(ga, b, ResourceId::none(), ResourceId::none(), 1);
    const ChildPair m1 = install_pair(ga, b, ResourceId::cpu(1), ResourceId::cpu(0), 2);
    policies(ga, true, true);
    policies(b, false, true);
    ga.drain();
    b.drain();
    auto before0 = send_raw(ga, 0, packets(5, 1));   // worker 0: on the fallback
    auto before1 = send_raw(ga, 1, packets(3, 50));  // worker 1: on its member
    ASSERT_EQ(before0.size(), 5U);
    ASSERT_EQ(before1.size(), 3U);
    EXPECT_EQ(before0[0].first.peer.address.to_string(), "10.99.0.2");
    std::vector<PacketBuf> replay(1);
    replay[0].assign(before0[4].second.bytes());

    const Endpoint a_new{IpAddress::parse("10.99.4.1").value(), 0};
    const Endpoint b_new{IpAddress::parse("10.99.5.2").value(), 0};
    std::vector<ike::BackendCommand> cmds;
    for (const ChildPair& p : {fb, m1}) {
        cmds.emplace_back(ike::UpdateSaAddresses{1, p.a_out, false, {}, {}, a_new, b_new, false});
        cmds.emplace_back(ike::UpdateSaAddresses{1, p.a_in, true, {}, {}, b_new, a_new, false});
    }
    cmds.emplace_back(ike::UpdateSaAddresses{9, Spi(0x7777), false, {}, {}, a_new, b_new, false});
    std::vector<ike::BackendEvent> events;
    backend->set_event_sink([&](const ike::BackendEvent& e) { events.push_back(e); });
    backend->apply(cmds);
    ga.drain();
    ASSERT_EQ(events.size(), 1U);  // only the unknown SA failed
    EXPECT_EQ(std::get<ike::InstallFailed>(events[0]).spi, Spi(0x7777));
    const auto moved = backend->dataplane().path(fb.a_in, true);
    ASSERT_TRUE(moved.has_value());
    EXPECT_EQ(moved->peer, b_new);
    EXPECT_FALSE(moved->udp_encap);

    auto after0 = send_raw(ga, 0, packets(5, 10));
    auto after1 = send_raw(ga, 1, packets(3, 60));
    ASSERT_EQ(after0.size(), 5U);
    ASSERT_EQ(after1.size(), 3U);
    for (const auto* list : {&after0, &after1}) {
        for (const auto& [out, wire] : *list) {
            EXPECT_EQ(out.peer.address, b_new.address);
            EXPECT_EQ(out.local.address, a_new.address);
            EXPECT_FALSE(out.udp);
        }
    }
    EXPECT_EQ(spi_of(after0[0].second), fb.a_out);
    EXPECT_EQ(spi_of(after1[0].second), m1.a_out);
    EXPECT_EQ(peek_header(after0[0].second.bytes())->seq, 6U);  // continues after 5
    EXPECT_EQ(peek_header(after1[0].second.bytes())->seq, 4U);
    EXPECT_EQ(backend->dataplane().find(fb.a_out, false)->packets(), 10U);
    std::vector<PacketBuf> wire;
    for (auto* list : {&before0, &before1, &after0, &after1}) {
        for (auto& [out, w] : *list) {
            wire.emplace_back().assign(w.bytes());
        }
    }
    EXPECT_EQ(deliver(b, wire).size(), 16U);
    EXPECT_TRUE(deliver(b, replay).empty());  // B's window is where it was
}

TEST(Dataplane, SpisNameTheirWorkerAndAreUnique) {
    Gateway g(4);
    std::set<std::uint32_t> seen;
    for (int i = 0; i < 200; ++i) {
        const Spi s = g.dp->allocate_spi(ResourceId::cpu(static_cast<std::uint32_t>(i % 4)));
        EXPECT_EQ(g.dp->owner(s), static_cast<unsigned>(i % 4));
        EXPECT_GE(s.value() & 0xffffffU, 256U);
        EXPECT_TRUE(seen.insert(s.value()).second);
    }
    // Fallback SPIs are spread over the workers.
    std::set<unsigned> owners;
    for (int i = 0; i < 8; ++i) {
        owners.insert(g.dp->owner(g.dp->allocate_spi(ResourceId::none())));
    }
    EXPECT_EQ(owners.size(), 4U);
    // Unusable algorithms are refused before any worker sees the SA.
    SaConfig bad = config(Spi(0x01000100), true, ResourceId::none(), true, key_of(1));
    bad.encr_id = 9999;
    EXPECT_FALSE(g.dp->install(std::move(bad)));
    EXPECT_EQ(g.dp->sa_count(), 0U);
}

}  // namespace
}  // namespace ikeplex::esp
