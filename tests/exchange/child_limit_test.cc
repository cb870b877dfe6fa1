// max_child_sas in the exchange harness, each test with either side as the initiator: a peer's
// requests beyond the limit are answered NO_ADDITIONAL_SAS (RFC 7296 §3.10.1) while the IKE SA
// stays up, rekeys at the limit still go through, RFC 9611 group members count, and our own
// side neither asks beyond its limit nor retries a request the peer refused.
#include <gtest/gtest.h>

#include "flow_fixture.h"

namespace ikeplex::test {
namespace {

using ike::ChildState;
using ike::EventKind;
using wire::ExchangeType;
using wire::NotifyType;

ike::Settings with_limit(std::uint32_t max_child_sas, std::uint32_t resources = 1) {
    ike::Settings s;
    s.max_child_sas = max_child_sas;
    s.resources = resources;
    return s;
}

/// The initiator allows `ini_limit` Child SAs per IKE SA, the responder `res_limit`.
class ChildLimit : public FlowTest {
protected:
    explicit ChildLimit(std::uint32_t ini_limit = 100, std::uint32_t res_limit = 4,
                        std::uint32_t resources = 1)
        : FlowTest(with_limit(GetParam() ? ini_limit : res_limit, resources),
                   with_limit(GetParam() ? res_limit : ini_limit, resources)) {}

    void establish() {
        load_psk();
        initiate();
        ASSERT_TRUE(up());
    }

    /// An operator's `initiate` of "net" once more on the initiator's IKE SA.
    Result<std::uint32_t> initiate_more() {
        Result<std::uint32_t> r = make_error(Errc::kInternal, "not run");
        h.act(ini(), [&](ike::Step& s) { r = ini().manager.initiate("conn", "net", s); });
        return r;
    }

    /// CREATE_CHILD_SA requests that node `n` sent (rekeys included).
    static std::size_t requests_sent(const Node& n) {
        return n.count({.sent = true, .exchange = ExchangeType::kCreateChildSa, .response = false});
    }

    /// CREATE_CHILD_SA responses that carried NO_ADDITIONAL_SAS, sent by `n` (or received).
    static std::size_t refusals(const Node& n, bool sent) {
        return n.count({.sent = sent,
                        .exchange = ExchangeType::kCreateChildSa,
                        .response = true,
                        .notify = NotifyType::kNoAdditionalSas});
    }
};

TEST_P(ChildLimit, BeyondTheLimitNoAdditionalSasAndTheIkeSaStays) {
    establish();
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(initiate_more());
    }
    settle();
    // 1 from IKE_AUTH + 3 more fill the responder's 4; the last 2 requests are refused.
    EXPECT_EQ(installed(res()).size(), 4U);
    EXPECT_EQ(installed(ini()).size(), 4U);
    EXPECT_EQ(requests_sent(ini()), 5U);  // each asked once: nothing retried
    const auto sent = res().find({.sent = true,
                                  .exchange = ExchangeType::kCreateChildSa,
                                  .response = true,
                                  .notify = NotifyType::kNoAdditionalSas});
    ASSERT_EQ(sent.size(), 2U);
    EXPECT_EQ(payload_summary(*sent[0]), "N(NO_ADD_SAS)");
    EXPECT_EQ(refusals(ini(), false), 2U);
    EXPECT_EQ(res().manager.counters().child_sas_refused, 2U);
    EXPECT_EQ(ini().manager.counters().child_sas_refused, 0U);
    // The initiator fails those two Child SAs (event child-failed), nothing else.
    EXPECT_EQ(ini().count(EventKind::kChildFailed), 2U);
    EXPECT_EQ(ini().count(EventKind::kIkeDown), 0U);
    EXPECT_EQ(res().count(EventKind::kIkeDown), 0U);
    EXPECT_EQ(only_sa(ini()).state(), ike::IkeState::kEstablished);
    EXPECT_EQ(only_sa(res()).state(), ike::IkeState::kEstablished);
    // Room again once one goes: the next request is accepted.
    h.act(ini(), [&](ike::Step& s) {
        ASSERT_TRUE(ini().manager.terminate_child(installed(ini()).back(), s));
    });
    settle();
    ASSERT_EQ(installed(res()).size(), 3U);
    ASSERT_TRUE(initiate_more());
    settle();
    EXPECT_EQ(installed(res()).size(), 4U);
    EXPECT_EQ(res().manager.counters().child_sas_refused, 2U);
    expect_consistent();
}

TEST_P(ChildLimit, RekeysAtTheLimitGoThrough) {
    establish();
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(initiate_more());
    }
    settle();
    ASSERT_EQ(installed(res()).size(), 4U);
    // Every Child SA rekeyed, by either side: old and new exist at once for a moment.
    for (Node* n : {&ini(), &res()}) {
        for (std::uint32_t id : installed(*n)) {
            h.act(*n, [&](ike::Step& s) { ASSERT_TRUE(n->manager.rekey_child(id, s)); });
            settle();
        }
    }
    EXPECT_EQ(ini().count(EventKind::kChildRekeyed), 8U);
    EXPECT_EQ(res().count(EventKind::kChildRekeyed), 8U);
    EXPECT_EQ(installed(res()).size(), 4U);
    EXPECT_EQ(installed(ini()).size(), 4U);
    EXPECT_EQ(res().manager.counters().child_sas_refused, 0U);
    EXPECT_EQ(ini().manager.counters().child_sas_refused, 0U);
    EXPECT_EQ(refusals(ini(), false) + refusals(res(), false), 0U);
    expect_consistent();
}

INSTANTIATE_TEST_SUITE_P(Roles, ChildLimit, ::testing::Bool(), role_name);

/// The initiator's own limit (2) below the responder's (100).
class OwnChildLimit : public ChildLimit {
protected:
    OwnChildLimit() : ChildLimit(2, 100) {}
};

TEST_P(OwnChildLimit, InitiateBeyondFailsWithoutSending) {
    establish();
    ASSERT_TRUE(initiate_more());
    const auto refused = initiate_more();  // the second is queued or under way: it counts
    ASSERT_FALSE(refused);
    EXPECT_NE(std::string(refused.error().detail).find("max_child_sas"), std::string::npos);
    settle();
    EXPECT_EQ(installed(ini()).size(), 2U);
    EXPECT_EQ(requests_sent(ini()), 1U);
    EXPECT_FALSE(initiate_more());
    settle();
    EXPECT_EQ(requests_sent(ini()), 1U);
    EXPECT_EQ(refusals(res(), true), 0U);
    expect_consistent();
}

INSTANTIATE_TEST_SUITE_P(Roles, OwnChildLimit, ::testing::Bool(), role_name);

/// RFC 9611 groups on both sides (4 resources, window 4): the responder allows 3 Child SAs,
/// the initiator 100.
class ChildLimitGroups : public ChildLimit {
protected:
    ChildLimitGroups() : ChildLimit(100, 3, 4) {
        for (auto* p : {&cfg.a, &cfg.b}) {
            p->children[0].per_cpu_sas = true;
            p->window_size = 4;
        }
    }

    void acquire(Node& n, std::uint32_t cpu) {
        const ike::ChildConfig& child = n.manager.configs().front().children.front();
        const ReqId reqid = n.manager.reqid_for(n.manager.configs().front(), child);
        h.act(n, [&](ike::Step& s) {
            n.manager.on_backend_event(ike::Acquire{reqid, ResourceId::cpu(cpu), {}, {}}, s);
        });
    }

    static std::size_t members(Node& n) {
        std::size_t count = 0;
        for (const ike::IkeSa* sa : n.established()) {
            for (const auto& c : sa->children()) {
                count += c->group_member && c->state == ChildState::kInstalled &&
                                         !c->resource.is_none()
                                 ? 1U
                                 : 0U;
            }
        }
        return count;
    }
};

TEST_P(ChildLimitGroups, MembersAndTheFallbackCount) {
    establish();  // the fallback
    acquire(ini(), 0);
    acquire(ini(), 1);
    settle();
    ASSERT_EQ(members(ini()), 2U);  // fallback + 2 members: the responder's 3
    acquire(ini(), 2);
    h.run_for(std::chrono::seconds(5));  // less than the back-off below
    EXPECT_EQ(members(ini()), 2U);
    EXPECT_EQ(members(res()), 2U);
    EXPECT_EQ(refusals(res(), true), 1U);
    EXPECT_EQ(res().manager.counters().child_sas_refused, 1U);
    // per_cpu_sas_max (64) is far away: the answer is NO_ADDITIONAL_SAS, not TS_MAX_QUEUE.
    EXPECT_EQ(res().count({.sent = true, .notify = NotifyType::kTsMaxQueue}), 0U);
    // The initiator takes the group as full: more acquires ask for nothing (no retry loop)
    // until the back-off (group_full_backoff, 60 s) has passed.
    const std::size_t asked = requests_sent(ini());
    for (std::uint32_t cpu : {2U, 3U, 2U}) {
        acquire(ini(), cpu);
        h.run_for(std::chrono::seconds(5));
    }
    EXPECT_EQ(requests_sent(ini()), asked);
    EXPECT_EQ(only_sa(ini()).state(), ike::IkeState::kEstablished);
    EXPECT_EQ(only_sa(res()).state(), ike::IkeState::kEstablished);
    // A member rekey at the limit goes through.
    const ike::IkeSa& sa = only_sa(ini());
    std::uint32_t member = 0;
    for (const auto& c : sa.children()) {
        if (c->group_member && !c->resource.is_none()) {
            member = c->id;
        }
    }
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_child(member, s)); });
    settle();
    EXPECT_EQ(ini().count(EventKind::kChildRekeyed), 1U);
    EXPECT_EQ(members(ini()), 2U);
    EXPECT_EQ(res().manager.counters().child_sas_refused, 1U);
    expect_consistent();
}

INSTANTIATE_TEST_SUITE_P(Roles, ChildLimitGroups, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
