// RFC 9611 groups with RFC 9370 additional key exchanges: each member is a Child SA of its own,
// so each member's CREATE_CHILD_SA carries its own IKE_FOLLOWUP_KE rounds; with a window of 4
// the rounds of several members interleave, each under its own link data, and the responder
// binds a resource to a member from its CREATE_CHILD_SA on (one member per resource).
#include "groups_fixture.h"
#include "ike/followup_ke.h"

namespace ikeplex::test {
namespace {

class FollowupGroups : public Groups {
protected:
    FollowupGroups() {
        for (auto* p : {&cfg.a, &cfg.b}) {
            p->children[0].esp_proposals = *ike::parse_proposals(
                    "aes128gcm16-x25519-ke1_ecp256-ke2_x448", wire::ProtocolId::kEsp);
        }
    }
};

TEST_P(FollowupGroups, EachMemberHasItsOwnRounds) {
    establish();
    for (std::uint32_t cpu : {0U, 1U, 2U, 3U}) {
        acquire(ini(), cpu);
    }
    settle();
    expect_one_per_cpu(ini(), {0, 1, 2, 3}, "initiator");
    expect_one_per_cpu(res(), {0, 1, 2, 3}, "responder");
    expect_consistent();
    // Four CREATE_CHILD_SA, each followed by two rounds; no round refused.
    EXPECT_EQ(h.count_sent(wire::ExchangeType::kCreateChildSa, false), 4U);
    EXPECT_EQ(h.count_sent(wire::ExchangeType::kIkeFollowupKe, false), 8U);
    EXPECT_EQ(res().manager.counters().followup_refused, 0U);
    for (Node* n : {&ini(), &res()}) {
        for (const ike::ChildSa* c : group(*n)) {
            // The fallback came with IKE_AUTH (no key exchange there); members have both.
            EXPECT_EQ(ike::additional_methods(c->proposal).size(), c->resource.is_none() ? 0U : 2U)
                    << n->name;
        }
    }
    // A member rekeys with its own rounds and stays on its resource.
    const ike::ChildSa* member = group(ini()).back();
    const std::uint32_t id = member->id;
    const ResourceId resource = member->resource;
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_child(id, s)); });
    settle();
    expect_one_per_cpu(ini(), {0, 1, 2, 3}, "after the member's rekey");
    expect_one_per_cpu(res(), {0, 1, 2, 3}, "after the member's rekey");
    EXPECT_EQ(group(ini()).back()->resource, resource);
    EXPECT_NE(group(ini()).back()->id, id);
    EXPECT_EQ(h.count_sent(wire::ExchangeType::kIkeFollowupKe, false), 10U);
    expect_consistent();
}

INSTANTIATE_TEST_SUITE_P(Roles, FollowupGroups, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
