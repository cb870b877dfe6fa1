// RFC 9611 groups when things happen at once, each test with either side as the initiator:
// both sides asking for a member of the same CPU (crossing requests, the ikeplex rule in
// per_resource.cc), for the fallback at once, identifiers with more members than resources,
// and the RFC 7296 races that used to leave a group with two members for a CPU or two
// fallbacks (a Delete or the peer's rekey overtaking a response).
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <fmt/format.h>

#include "groups_fixture.h"
#include "util/hex.h"
#include "wire/message.h"

namespace ikeplex::test {
namespace {

using ike::ChildSa;
using ikeplex::ResourceId;

class GroupRaces : public Groups {
protected:
    /// Drops the first `exchange` message (request or response) that `from` sends from now on.
    static void drop_first(Harness& hh, Node& from, wire::ExchangeType exchange, bool response) {
        const bool from_a = &from == &hh.a();
        auto done = std::make_shared<bool>(false);
        hh.drop = [=](const Datagram& d) {
            auto hd = wire::peek_header(d.data);
            if (*done || d.from_a != from_a || !hd || hd->exchange != exchange ||
                hd->is_response() != response) {
                return false;
            }
            *done = true;
            return true;
        };
    }

    /// The response a node sent to a request it received (the same message ID), or nullptr.
    static const ike::MessageTrace* response_to(const Node& n, const ike::MessageTrace& request) {
        for (const ike::MessageTrace* m :
             n.find({.sent = true, .exchange = request.header.exchange, .response = true})) {
            if (m->header.message_id == request.header.message_id) {
                return m;
            }
        }
        return nullptr;
    }

    /// After `deleter` deleted the group's fallback, it left the new one to its peer, which
    /// asked for it at once (SA_RESOURCE_INFO without an identifier), and asked itself only
    /// after a grace of two retransmit timeouts from the end of its Delete.
    static void expect_fallback_left_to_the_peer(const Node& deleter, std::size_t deleter_since,
                                                 const Node& peer, std::size_t peer_since,
                                                 const std::string& what) {
        const auto done = deleter.find({.sent = false,
                                        .exchange = wire::ExchangeType::kInformational,
                                        .response = true,
                                        .since = deleter_since});
        ASSERT_FALSE(done.empty()) << what;
        const TimePoint deleted = deleter.time_of(*done[0]);
        const MessageQuery asked{
                .sent = true, .exchange = wire::ExchangeType::kCreateChildSa, .response = false};
        MessageQuery by_peer = asked;
        by_peer.since = peer_since;
        const auto peers = peer.find(by_peer);
        ASSERT_FALSE(peers.empty()) << what;
        EXPECT_LT(peer.time_of(*peers[0]), deleted) << what;  // on the Delete, before its answer
        EXPECT_TRUE(notify_in(*peers[0], wire::NotifyType::kSaResourceInfo)->data.empty()) << what;
        MessageQuery by_deleter = asked;
        by_deleter.since = deleter_since;
        const auto own = deleter.find(by_deleter);
        ASSERT_FALSE(own.empty()) << what;
        const Duration grace = 2 * ike::Settings{}.retransmit_timeout;
        EXPECT_GE(deleter.time_of(*own[0]) - deleted, grace) << what;
        EXPECT_LT(deleter.time_of(*own[0]) - deleted, grace + std::chrono::seconds(1)) << what;
        EXPECT_TRUE(notify_in(*own[0], wire::NotifyType::kSaResourceInfo)->data.empty()) << what;
    }

    /// The one member of a node's group (ASSERTs there is one).
    static const ChildSa* member(Node& n) {
        for (const ChildSa* c : group(n)) {
            if (!c->resource.is_none()) {
                return c;
            }
        }
        return nullptr;
    }

    /// Both sides: the fallback and `members` members, none two for one CPU, the same roles,
    /// consistent.
    static void expect_settled(Harness& hh, std::size_t members, const std::string& what) {
        for (Node* n : {&hh.a(), &hh.b()}) {
            expect_one_per_cpu(*n, {}, what);
            EXPECT_EQ(group(*n).size(), members + 1) << n->name << ", " << what;
        }
        expect_same_roles(hh.a(), hh.b(), what);
        const auto problems = check_consistent(hh);
        EXPECT_TRUE(problems.empty()) << what << "\n" << join(problems);
    }
};

TEST_P(GroupRaces, CrossingAcquiresLeaveOneMemberPerCpu) {
    // Both kernels raise a per-CPU acquire for every CPU at the same time, or the responder's
    // a little later (before, as and after the initiator's requests arrive; in the same or
    // the reverse order): each side ends with the fallback and one member per CPU, and the
    // fallback is there throughout (no CPU is ever without an SA).
    for (std::uint32_t n : {1U, 2U, 4U}) {
        for (int offset : {0, 2, 5, 7, 12}) {
            for (bool reversed : {false, true}) {
                const std::string what = fmt::format(
                        "{} cpus, the responder's acquires {} ms "
                        "later{}",
                        n, offset, reversed ? ", reversed" : "");
                OwnPair p(GetParam(), n, n, 100 + n * 10 + static_cast<std::uint64_t>(offset));
                ASSERT_TRUE(p.establish()) << what;
                std::set<std::uint32_t> all;
                std::vector<std::uint32_t> order;
                for (std::uint32_t cpu = 0; cpu < n; ++cpu) {
                    all.insert(cpu);
                    order.push_back(cpu);
                }
                for (std::uint32_t cpu : order) {
                    acquire_on(p.h, p.ini(), cpu);
                }
                p.h.run_for(std::chrono::milliseconds(offset));
                if (reversed) {
                    std::reverse(order.begin(), order.end());
                }
                for (std::uint32_t cpu : order) {
                    acquire_on(p.h, p.res(), cpu);
                }
                EXPECT_TRUE(p.run_keeping_the_fallback(kSettle)) << what;
                expect_one_per_cpu(p.ini(), all, what);
                expect_one_per_cpu(p.res(), all, what);
                expect_same_roles(p.ini(), p.res(), what);
                EXPECT_EQ(group(p.ini()).size(), n + 1) << what;
                // Traffic again on every CPU of both sides: nothing more is asked for.
                const std::size_t requests =
                        p.h.count_sent(wire::ExchangeType::kCreateChildSa, false);
                for (std::uint32_t cpu : order) {
                    acquire_on(p.h, p.ini(), cpu);
                    acquire_on(p.h, p.res(), cpu);
                }
                p.h.run_for(kSettle);
                EXPECT_EQ(p.h.count_sent(wire::ExchangeType::kCreateChildSa, false), requests)
                        << what;
                const auto problems = check_consistent(p.h);
                EXPECT_TRUE(problems.empty()) << what << "\n" << join(problems);
            }
        }
    }
}

TEST_P(GroupRaces, PingAndReplyAcquireTheSameCpu) {
    // A ping from CPU 0 makes the initiator's kernel ask for CPU 0; its reply leaves the
    // responder on CPU 0 by the fallback, so that kernel asks for CPU 0 too, a little later.
    // Each side ends with at most one member per CPU (one for CPU 0), and later pings from
    // the other CPUs fill them up to exactly one each.
    for (std::uint32_t n : {1U, 2U, 4U}) {
        for (int offset : {0, 3, 5, 6, 10}) {
            const std::string what =
                    fmt::format("{} cpus, the reply's acquire {} ms later", n, offset);
            OwnPair p(GetParam(), n, n, 200 + n * 10 + static_cast<std::uint64_t>(offset));
            ASSERT_TRUE(p.establish()) << what;
            acquire_on(p.h, p.ini(), 0);
            p.h.run_for(std::chrono::milliseconds(offset));
            acquire_on(p.h, p.res(), 0);
            EXPECT_TRUE(p.run_keeping_the_fallback(kSettle)) << what;
            expect_one_per_cpu(p.ini(), {0}, what);
            expect_one_per_cpu(p.res(), {0}, what);
            std::set<std::uint32_t> all;
            for (std::uint32_t cpu = 0; cpu < n; ++cpu) {
                all.insert(cpu);
                acquire_on(p.h, p.ini(), cpu);
                acquire_on(p.h, p.res(), cpu);
            }
            EXPECT_TRUE(p.run_keeping_the_fallback(kSettle)) << what;
            expect_one_per_cpu(p.ini(), all, what);
            expect_one_per_cpu(p.res(), all, what);
            expect_same_roles(p.ini(), p.res(), what);
            const auto problems = check_consistent(p.h);
            EXPECT_TRUE(problems.empty()) << what << "\n" << join(problems);
        }
    }
}

TEST_P(GroupRaces, PeerRequestWhileTheWholeGroupIsQueued) {
    // per_cpu_sas_start = all at window 1: the initiator's members go one at a time; the
    // responder's acquire for CPU 2 meanwhile is bound by the initiator to a CPU whose own
    // request is still queued (that one is then not sent), not to the one under way: no
    // redundant SA, one member per CPU on both sides.
    for (std::uint32_t cpu : {0U, 2U, 3U}) {
        const std::string what = fmt::format("the responder's acquire for cpu {}", cpu);
        OwnPair p(GetParam(), 4, 4, 70 + cpu);
        for (auto* c : {&p.cfg.a, &p.cfg.b}) {
            c->children[0].per_cpu_sas_start = ike::PerCpuStart::kAll;
            c->window_size = 1;
        }
        ASSERT_TRUE(p.establish()) << what;
        acquire_on(p.h, p.res(), cpu);
        p.h.run_for(kSettle);
        // The initiator's queued request for the CPU that the responder's request took was
        // not sent: 3 requests of its own and the responder's one, and no redundant SA to
        // delete on either side.
        const MessageQuery requests{
                .sent = true, .exchange = wire::ExchangeType::kCreateChildSa, .response = false};
        EXPECT_EQ(p.ini().count(requests), 3U) << what;
        EXPECT_EQ(p.res().count(requests), 1U) << what;
        EXPECT_TRUE(deleted_child_spis(p.ini()).empty()) << what;
        EXPECT_TRUE(deleted_child_spis(p.res()).empty()) << what;
        expect_settled(p.h, 4, what);
        expect_one_per_cpu(p.ini(), {0, 1, 2, 3}, what);
        expect_one_per_cpu(p.res(), {0, 1, 2, 3}, what);
    }
}

TEST_P(GroupRaces, IdentifiersStayUniqueWithFewerResources) {
    // a has 4 CPUs, b 2: b holds two members per CPU. Every SA of the group that b announces
    // has its own SA_RESOURCE_INFO identifier, also after a member is replaced and after an
    // IKE rekey; and so does each side's pair of crossing requests for one CPU.
    OwnPair p(GetParam(), 4, 2, 31);
    ASSERT_TRUE(p.establish());
    Node& big = p.h.a();
    Node& small = p.h.b();
    for (std::uint32_t cpu = 0; cpu < 4; ++cpu) {
        acquire_on(p.h, big, cpu);
    }
    p.h.run_for(kSettle);
    ASSERT_EQ(cpus(big), (std::set<std::uint32_t>{0, 1, 2, 3}));
    EXPECT_EQ(per_cpu(small), (std::map<std::uint32_t, std::size_t>{{0, 2}, {1, 2}}));
    const auto distinct = [](const std::vector<std::string>& ids) {
        return std::set<std::string>(ids.begin(), ids.end()).size() == ids.size();
    };
    // What b announced, as a received it, and as b sent it.
    auto heard = announced_ids(big, false);
    EXPECT_EQ(heard.size(), 4U);
    EXPECT_TRUE(distinct(heard)) << join(heard);
    auto sent = announced_ids(small, true);
    std::sort(heard.begin(), heard.end());
    std::sort(sent.begin(), sent.end());
    EXPECT_EQ(heard, sent);
    const auto current = [&](Node& n) {
        std::vector<std::string> ids;
        for (const ike::IkeSa* sa : n.established()) {
            for (const auto& c : sa->children()) {
                if (c->group_member && !c->resource.is_none()) {
                    ids.push_back(to_hex(
                            ike::resource_identifier(*sa, c->resource, c->member_info.slot)));
                }
            }
        }
        return ids;
    };
    EXPECT_TRUE(distinct(current(small))) << join(current(small));
    EXPECT_TRUE(distinct(current(big))) << join(current(big));
    // A member goes, a new one comes (b's slot is free again); then an IKE rekey by either
    // side and one more replacement.
    for (Node* rekeying : {&p.ini(), &p.res()}) {
        const std::uint32_t gone = group(big).back()->id;
        const std::uint32_t cpu = group(big).back()->resource.index();
        p.h.act(big, [&](ike::Step& s) { ASSERT_TRUE(big.manager.terminate_child(gone, s)); });
        p.h.run_for(kSettle);
        acquire_on(p.h, big, cpu);
        p.h.run_for(kSettle);
        EXPECT_EQ(group(small).size(), 5U);
        EXPECT_TRUE(distinct(current(small))) << join(current(small));
        const std::uint32_t ike_id = only_sa(*rekeying).id();
        p.h.act(*rekeying,
                [&](ike::Step& s) { ASSERT_TRUE(rekeying->manager.rekey_ike(ike_id, s)); });
        p.h.run_for(kSettle);
        EXPECT_TRUE(distinct(current(small))) << join(current(small));
    }
    // What an SA's identifier is stays what was announced for it (also across IKE rekeys).
    sent = announced_ids(small, true);
    for (const std::string& id : current(small)) {
        EXPECT_NE(std::find(sent.begin(), sent.end(), id), sent.end()) << id;
    }
    auto problems = check_consistent(p.h);
    EXPECT_TRUE(problems.empty()) << join(problems);

    // Crossing requests for the one CPU of each side: the responder's binding of the peer's
    // request gets another identifier than its own request under way.
    OwnPair q(GetParam(), 1, 1, 37);
    ASSERT_TRUE(q.establish());
    const std::size_t since_a = q.h.a().messages.size();
    const std::size_t since_b = q.h.b().messages.size();
    acquire_on(q.h, q.ini(), 0);
    acquire_on(q.h, q.res(), 0);
    q.h.run_for(kSettle);
    for (Node* n : {&q.h.a(), &q.h.b()}) {
        const auto own = announced_ids(*n, true, n == &q.h.a() ? since_a : since_b);
        EXPECT_EQ(own.size(), 2U) << n->name;
        EXPECT_TRUE(distinct(own)) << n->name << ": " << join(own);
        expect_one_per_cpu(*n, {0}, "one cpu each");
    }
    problems = check_consistent(q.h);
    EXPECT_TRUE(problems.empty()) << join(problems);
}

TEST_P(GroupRaces, FallbackRequestsCross) {
    // The fallback went while the group had no member (nobody re-creates it); then traffic on
    // both sides at once: both ask for the fallback. The IKE SA's original initiator answers
    // the crossing request TEMPORARY_FAILURE, the other side takes the initiator's: one
    // fallback, the same SA on both sides.
    for (int offset : {0, 2, 5, 7, 12}) {
        const std::string what = fmt::format("the responder's acquire {} ms later", offset);
        OwnPair p(GetParam(), 2, 2, 300 + static_cast<std::uint64_t>(offset));
        ASSERT_TRUE(p.establish()) << what;
        const std::uint32_t fallback = group(p.ini()).front()->id;
        p.h.act(p.ini(),
                [&](ike::Step& s) { ASSERT_TRUE(p.ini().manager.terminate_child(fallback, s)); });
        p.h.run_for(kSettle);
        ASSERT_TRUE(group(p.ini()).empty()) << what;
        acquire_on(p.h, p.ini(), 0);
        p.h.run_for(std::chrono::milliseconds(offset));
        acquire_on(p.h, p.res(), 0);
        p.h.run_for(kSettle);
        // (An acquire that comes after the fallback is up asks for CPU 0's member.)
        for (Node* n : {&p.h.a(), &p.h.b()}) {
            expect_one_per_cpu(*n, {}, what);
        }
        expect_same_roles(p.h.a(), p.h.b(), what);
        auto problems = check_consistent(p.h);
        EXPECT_TRUE(problems.empty()) << what << "\n" << join(problems);
        // Then the members, one per CPU.
        for (std::uint32_t cpu : {0U, 1U}) {
            acquire_on(p.h, p.ini(), cpu);
            acquire_on(p.h, p.res(), cpu);
        }
        p.h.run_for(kSettle);
        expect_settled(p.h, 2, what);
        expect_one_per_cpu(p.ini(), {0, 1}, what);
        expect_one_per_cpu(p.res(), {0, 1}, what);
    }
}

TEST_P(GroupRaces, FallbackComesBackWhenThePeersRequestsAreLost) {
    // The deleter of the fallback leaves its re-creation to the peer, but does it itself after
    // a grace (for a peer that does not, or whose requests are lost for a minute, as here).
    // Whoever gets through, the group ends with one fallback, the same SA on both sides.
    for (bool ini_deletes : {true, false}) {
        const std::string what = ini_deletes ? "the initiator deletes" : "the responder deletes";
        OwnPair p(GetParam(), 2, 2, ini_deletes ? 41 : 43);
        ASSERT_TRUE(p.establish()) << what;
        acquire_on(p.h, p.ini(), 0);
        acquire_on(p.h, p.ini(), 1);
        p.h.run_for(kSettle);
        Node& deleter = ini_deletes ? p.ini() : p.res();
        Node& peer = p.h.peer(deleter);
        const bool peer_is_a = &peer == &p.h.a();
        const TimePoint until = p.h.now() + std::chrono::seconds(60);
        p.h.drop = [&](const Datagram& d) {
            auto hd = wire::peek_header(d.data);
            return d.from_a == peer_is_a && p.h.now() < until && hd &&
                   hd->exchange == wire::ExchangeType::kCreateChildSa && !hd->is_response();
        };
        const std::uint32_t fallback = group(deleter).front()->id;
        const std::size_t deleter_since = deleter.messages.size();
        const std::size_t peer_since = peer.messages.size();
        p.h.act(deleter,
                [&](ike::Step& s) { ASSERT_TRUE(deleter.manager.terminate_child(fallback, s)); });
        p.h.run_for(std::chrono::seconds(30));
        expect_fallback_left_to_the_peer(deleter, deleter_since, peer, peer_since, what);
        if (ini_deletes) {
            // After the grace the deleter asked itself, and the peer (not the IKE SA's
            // original initiator) took it although its own request is still repeated.
            EXPECT_TRUE(has_fallback(deleter)) << what;
            EXPECT_TRUE(has_fallback(peer)) << what;
        }
        p.h.run_for(kSettle);
        p.h.drop = nullptr;
        expect_settled(p.h, 2, what);
    }
}

TEST_P(GroupRaces, SimultaneousFallbackDeletes) {
    // Both delete the fallback at once (RFC 7296 §1.4.1): the original initiator of the IKE SA
    // re-creates it.
    establish();
    acquire(ini(), 0);
    settle();
    const std::uint32_t fi = group(ini()).front()->id;
    const std::uint32_t fr = group(res()).front()->id;
    const std::size_t ini_since = ini().messages.size();
    const std::size_t res_since = res().messages.size();
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.terminate_child(fi, s)); });
    h.act(res(), [&](ike::Step& s) { ASSERT_TRUE(res().manager.terminate_child(fr, s)); });
    settle();
    // Only the original initiator asked for a new fallback (SA_RESOURCE_INFO without an
    // identifier), once.
    const auto asked = ini().find({.sent = true,
                                   .exchange = wire::ExchangeType::kCreateChildSa,
                                   .response = false,
                                   .since = ini_since});
    ASSERT_EQ(asked.size(), 1U);
    EXPECT_EQ(payload_summary(*asked[0]), "SA No TSi TSr N(RES_INFO)");
    EXPECT_TRUE(notify_in(*asked[0], wire::NotifyType::kSaResourceInfo)->data.empty());
    EXPECT_EQ(res().count({.sent = true,
                           .exchange = wire::ExchangeType::kCreateChildSa,
                           .response = false,
                           .since = res_since}),
              0U);
    expect_settled(h, 1, "deleted by both");
}

TEST_P(GroupRaces, SimultaneousMemberRekeyWhenTheDeleteOvertakesTheResponse) {
    // RFC 7296 §2.8.1 with loss: both rekey the member; one side's response is lost, so the
    // winner's Delete of the old SA reaches the other side before its own rekey completes.
    // The nonces still decide there, and the redundant new SA goes: one member per CPU.
    for (bool drop_a : {true, false}) {
        const std::string what = drop_a ? "a's response lost" : "b's response lost";
        OwnPair p(GetParam(), 2, 2, drop_a ? 51 : 53);
        ASSERT_TRUE(p.establish()) << what;
        acquire_on(p.h, p.ini(), 0);
        p.h.run_for(kSettle);
        const std::uint32_t ma = member(p.h.a())->id;
        const std::uint32_t mb = member(p.h.b())->id;
        drop_first(p.h, drop_a ? p.h.a() : p.h.b(), wire::ExchangeType::kCreateChildSa, true);
        p.h.act(p.h.a(), [&](ike::Step& s) { ASSERT_TRUE(p.h.a().manager.rekey_child(ma, s)); });
        p.h.act(p.h.b(), [&](ike::Step& s) { ASSERT_TRUE(p.h.b().manager.rekey_child(mb, s)); });
        p.h.run_for(kSettle);
        expect_settled(p.h, 1, what);
        // Each side reports its old member rekeyed once, never down (a waiting VICI rekey
        // command settles on it).
        for (const auto& side : {std::pair<Node*, std::uint32_t>{&p.h.a(), ma},
                                 std::pair<Node*, std::uint32_t>{&p.h.b(), mb}}) {
            const Node& n = *side.first;
            EXPECT_EQ(n.count(ike::EventKind::kChildRekeyed, side.second), 1U)
                    << what << " " << n.name;
            EXPECT_EQ(n.count(ike::EventKind::kChildDown, side.second), 0U)
                    << what << " " << n.name;
        }
    }
}

TEST_P(GroupRaces, RekeyOfAMemberWhoseResponseIsStillOnItsWay) {
    // The responder rekeys a member at once while the response that created it is lost: the
    // initiator does not know it yet and answers TEMPORARY_FAILURE (not CHILD_SA_NOT_FOUND,
    // which would make the responder drop it and leave the initiator's copy alone).
    establish();
    drop_first(h, res(), wire::ExchangeType::kCreateChildSa, true);
    acquire(ini(), 1);
    ASSERT_TRUE(h.run_until([&] { return member(res()) != nullptr; }, std::chrono::seconds(1)));
    const std::uint32_t fresh = member(res())->id;
    const Spi fresh_in = member(res())->spi_in;
    h.act(res(), [&](ike::Step& s) { ASSERT_TRUE(res().manager.rekey_child(fresh, s)); });
    settle();
    // The initiator answered the rekey of the SPI it did not know yet with TEMPORARY_FAILURE
    // alone, never CHILD_SA_NOT_FOUND (RFC 7296 §2.25).
    const auto rekeys = ini().find({.sent = false,
                                    .exchange = wire::ExchangeType::kCreateChildSa,
                                    .response = false,
                                    .notify = wire::NotifyType::kRekeySa});
    ASSERT_FALSE(rekeys.empty());
    EXPECT_EQ(spi_from(notify_in(*rekeys[0], wire::NotifyType::kRekeySa)->spi), fresh_in);
    const auto answer = response_to(ini(), *rekeys[0]);
    ASSERT_NE(answer, nullptr);
    EXPECT_EQ(payload_summary(*answer), "N(TEMP_FAIL)");
    EXPECT_EQ(ini().count({.notify = wire::NotifyType::kChildSaNotFound}), 0U);
    EXPECT_EQ(res().count({.notify = wire::NotifyType::kChildSaNotFound}), 0U);
    expect_settled(h, 1, "rekeyed before the response arrived");
    EXPECT_EQ(cpus(ini()), (std::set<std::uint32_t>{1}));
}

TEST_P(GroupRaces, DeleteOvertakesTheResponseThatCreatedTheSa) {
    // The responder deletes a new member (then a member's new SA from a rekey) at once while
    // the response that made it is lost: the initiator remembers the Delete of the SPI it does
    // not know yet and drops the SA when the repeated response makes it. Nothing lives on one
    // side only; after a rekey so deleted, the old SA stays on both sides.
    establish();
    drop_first(h, res(), wire::ExchangeType::kCreateChildSa, true);
    acquire(ini(), 1);
    ASSERT_TRUE(h.run_until([&] { return member(res()) != nullptr; }, std::chrono::seconds(1)));
    std::uint32_t fresh = member(res())->id;
    const Spi fresh_in = member(res())->spi_in;
    const std::size_t before = ini().messages.size();
    const std::size_t events_before = ini().events.size();
    h.act(res(), [&](ike::Step& s) { ASSERT_TRUE(res().manager.terminate_child(fresh, s)); });
    settle();
    // The initiator got the Delete of the new SA before the (repeated) response that made
    // it, and dropped the SA when that came: up and down at once, nothing of it left, and no
    // Delete of its own for it.
    const auto deletes = ini().find(
            {.sent = false, .exchange = wire::ExchangeType::kInformational, .since = before});
    ASSERT_EQ(deletes.size(), 1U);
    EXPECT_EQ(deleted_spis(*deletes[0]), std::vector<Spi>{fresh_in});
    const auto made = ini().find({.sent = false,
                                  .exchange = wire::ExchangeType::kCreateChildSa,
                                  .response = true,
                                  .since = before});
    ASSERT_EQ(made.size(), 1U);
    EXPECT_EQ(proposed_spi(*made[0]), fresh_in);
    EXPECT_LT(deletes[0], made[0]);  // traced in this order
    const std::vector<ike::Event> events(
            ini().events.begin() + static_cast<std::ptrdiff_t>(events_before), ini().events.end());
    ASSERT_EQ(events.size(), 2U);
    EXPECT_EQ(events[0].kind, ike::EventKind::kChildUp);
    EXPECT_EQ(events[1].kind, ike::EventKind::kChildDown);
    EXPECT_EQ(events[0].child_id, events[1].child_id);
    EXPECT_FALSE(ini().backend.sas.contains({fresh_in, false}));
    EXPECT_TRUE(deleted_child_spis(ini()).empty());
    expect_settled(h, 0, "a new member");

    acquire(ini(), 1);
    settle();
    const ChildSa* m = member(ini());
    ASSERT_NE(m, nullptr);
    const Spi spi_in = m->spi_in;
    const std::uint32_t mi = m->id;
    drop_first(h, res(), wire::ExchangeType::kCreateChildSa, true);
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_child(mi, s)); });
    ASSERT_TRUE(h.run_until([&] { return only_sa(res()).children().size() == 3; },
                            std::chrono::seconds(1)));
    fresh = only_sa(res()).children().back()->id;
    h.act(res(), [&](ike::Step& s) { ASSERT_TRUE(res().manager.terminate_child(fresh, s)); });
    settle();
    expect_settled(h, 1, "a rekeyed member");
    ASSERT_NE(member(ini()), nullptr);
    EXPECT_EQ(member(ini())->spi_in, spi_in);  // the old SA stayed
}

TEST_P(GroupRaces, SimultaneousIkeRekeyWhenTheWinnerIsFaster) {
    // RFC 7296 §2.8.2 with loss: both rekey the IKE SA; one side's response is lost, so the
    // winner's Delete of the old IKE SA reaches the other side before its own rekey completes
    // (then the Child SAs move to the new IKE SA on that Delete), or, with the Delete lost too,
    // the winner's work on the new IKE SA does (they move on its first request there).
    for (bool works_at_once : {false, true}) {
        for (bool drop_a : {true, false}) {
            const std::string what = fmt::format("{}'s response lost{}", drop_a ? "a" : "b",
                                                 works_at_once ? ", and its Delete" : "");
            OwnPair p(GetParam(), 2, 2, drop_a ? 61 : 63);
            ASSERT_TRUE(p.establish()) << what;
            acquire_on(p.h, p.ini(), 0);
            p.h.run_for(kSettle);
            const std::uint32_t ia = p.h.a().established().front()->id();
            const std::uint32_t ib = p.h.b().established().front()->id();
            const bool from_a = drop_a;
            auto dropped = std::make_shared<std::pair<bool, bool>>(false, false);
            p.h.drop = [=](const Datagram& d) {
                auto hd = wire::peek_header(d.data);
                if (d.from_a != from_a || !hd) {
                    return false;
                }
                const bool response =
                        hd->exchange == wire::ExchangeType::kCreateChildSa && hd->is_response();
                const bool request = works_at_once &&
                                     hd->exchange == wire::ExchangeType::kInformational &&
                                     !hd->is_response();
                bool& done = response ? dropped->first : dropped->second;
                if ((!response && !request) || done) {
                    return false;
                }
                done = true;
                return true;
            };
            p.h.act(p.h.a(), [&](ike::Step& s) { ASSERT_TRUE(p.h.a().manager.rekey_ike(ia, s)); });
            p.h.act(p.h.b(), [&](ike::Step& s) { ASSERT_TRUE(p.h.b().manager.rekey_ike(ib, s)); });
            // The side whose own rekey is done (its new IKE SA is up) rekeys the member at
            // once, on the new IKE SA.
            p.h.run_for(std::chrono::milliseconds(12));
            for (Node* n : {&p.h.a(), &p.h.b()}) {
                const std::uint32_t old_id = n == &p.h.a() ? ia : ib;
                const auto sas = n->established();
                const bool rekeyed = std::any_of(sas.begin(), sas.end(), [&](const ike::IkeSa* sa) {
                    return sa->id() != old_id && sa->is_original_initiator() &&
                           sa->state() == ike::IkeState::kEstablished;
                });
                if (const ChildSa* m = member(*n); works_at_once && m != nullptr && rekeyed) {
                    const std::uint32_t id = m->id;
                    p.h.act(*n, [&](ike::Step& s) { ASSERT_TRUE(n->manager.rekey_child(id, s)); });
                    break;
                }
            }
            p.h.run_for(kSettle);
            EXPECT_EQ(p.h.a().established().size(), 1U) << what;
            EXPECT_EQ(p.h.b().established().size(), 1U) << what;
            expect_settled(p.h, 1, what);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Roles, GroupRaces, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
