// RFC 9611 groups for a remote-access client (issue 22): a client with a virtual IP (`vips =
// 0.0.0.0`) and `per_cpu_sas` against a gateway with a pool and `per_cpu_sas`. RFC 9611 §4
// wants every member of a group to have the group's traffic selectors: here the ones narrowed
// to the leased address, identical across the group on both sides, for the members the client
// creates (per_cpu_sas_start = all) and for those the gateway creates on its own acquires.
#include <set>

#include "vips_fixture.h"

namespace ikeplex::test {
namespace {

using wire::ExchangeType;

ike::Settings resources(std::uint32_t n) {
    ike::Settings s;
    s.resources = n;
    return s;
}

/// The installed group members of a node's only IKE SA, fallback first.
std::vector<const ike::ChildSa*> group(Node& n) {
    std::vector<const ike::ChildSa*> out;
    for (const ike::IkeSa* sa : n.established()) {
        for (const auto& c : sa->children()) {
            if (c->group_member && c->state == ike::ChildState::kInstalled) {
                out.push_back(c.get());
            }
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const ike::ChildSa* x, const ike::ChildSa* y) {
        return !x->resource.is_none() < !y->resource.is_none();
    });
    return out;
}

/// Every member has the fallback's selectors, which are `local` === `remote`.
void expect_group_selectors(Node& n, const char* local, const char* remote, std::size_t members) {
    const auto g = group(n);
    ASSERT_EQ(g.size(), members) << n.name;
    ASSERT_TRUE(g.front()->resource.is_none()) << n.name;
    for (const ike::ChildSa* c : g) {
        EXPECT_EQ(ike::to_string(c->local_ts), local) << n.name << " cpu " << c->resource.index();
        EXPECT_EQ(ike::to_string(c->remote_ts), remote) << n.name << " cpu " << c->resource.index();
        EXPECT_EQ(c->local_ts, g.front()->local_ts);
        EXPECT_EQ(c->remote_ts, g.front()->remote_ts);
    }
}

/// The selectors of a node's CREATE_CHILD_SA messages (requests or responses): "TSi === TSr".
std::set<std::string> create_child_ts(Node& n, bool sent, bool response) {
    std::set<std::string> out;
    for (const ike::MessageTrace* m :
         n.find({.sent = sent, .exchange = ExchangeType::kCreateChildSa, .response = response})) {
        const auto* tsi = ike::find_payload<wire::TsPayload>(m->payloads, wire::PayloadType::kTsi);
        const auto* tsr = ike::find_payload<wire::TsPayload>(m->payloads, wire::PayloadType::kTsr);
        if (tsi != nullptr && tsr != nullptr) {
            out.insert(ike::to_string(ike::from_wire(*tsi)) +
                       " === " + ike::to_string(ike::from_wire(*tsr)));
        }
    }
    return out;
}

TEST(VipGroups, EveryMemberCarriesTheVirtualIpSelectorsOnBothSides) {
    // The client has 4 resources, the gateway 6: the gateway makes members for its two
    // resources the client's did not bind to.
    Harness h(37, resources(4), resources(6));
    PairConfig cfg = psk_pair();
    ike::PeerConfig client = cfg.a;
    client.vips = {ip("0.0.0.0")};
    client.window_size = 4;
    ike::ChildConfig& cc = client.children.front();
    cc.local_ts.clear();
    cc.per_cpu_sas = true;
    cc.per_cpu_sas_start = ike::PerCpuStart::kAll;
    ike::PeerConfig gateway = cfg.b;
    gateway.remote.id = *ike::Identity::parse("%any");
    gateway.pools = {"p"};
    gateway.window_size = 4;
    gateway.children.front().remote_ts.clear();
    gateway.children.front().per_cpu_sas = true;
    ASSERT_TRUE(h.b().manager.pools().load(pool("p", "10.99.157.0/24")));
    h.a().manager.load({client});
    h.b().manager.load({gateway});
    h.a().manager.set_credentials(psk_credentials());
    h.b().manager.set_credentials(psk_credentials());
    h.act(h.a(), [&](ike::Step& s) { ASSERT_TRUE(h.a().manager.initiate(client.name, "net", s)); });
    ASSERT_TRUE(h.run_until([&] { return group(h.a()).size() == 5 && group(h.b()).size() == 5; },
                            std::chrono::seconds(30)));
    h.run_for(std::chrono::seconds(2));
    const std::string gw_net = ike::to_string(gateway.children.front().local_ts);
    expect_group_selectors(h.a(), "10.99.157.1/32", gw_net.c_str(), 5);
    expect_group_selectors(h.b(), gw_net.c_str(), "10.99.157.1/32", 5);
    // The client's member requests offer the narrowed selectors (not 0.0.0.0/0 again), and the
    // gateway's answers keep them.
    const std::string narrowed = "10.99.157.1/32 === " + gw_net;
    EXPECT_EQ(create_child_ts(h.a(), true, false), std::set<std::string>{narrowed});
    EXPECT_EQ(create_child_ts(h.b(), true, true), std::set<std::string>{narrowed});

    // The gateway's own acquires for its resources 4 and 5 (traffic to the client on those
    // CPUs): members it creates, with the same selectors seen from its side.
    const ike::ChildConfig& gchild = h.b().manager.configs().front().children.front();
    const ReqId reqid = h.b().manager.reqid_for(h.b().manager.configs().front(), gchild);
    for (std::uint32_t cpu : {4U, 5U}) {
        h.act(h.b(), [&](ike::Step& s) {
            h.b().manager.on_backend_event(ike::Acquire{reqid, ResourceId::cpu(cpu), {}, {}}, s);
        });
    }
    ASSERT_TRUE(h.run_until([&] { return group(h.a()).size() == 7 && group(h.b()).size() == 7; },
                            std::chrono::seconds(30)));
    h.run_for(std::chrono::seconds(2));
    expect_group_selectors(h.a(), "10.99.157.1/32", gw_net.c_str(), 7);
    expect_group_selectors(h.b(), gw_net.c_str(), "10.99.157.1/32", 7);
    EXPECT_EQ(create_child_ts(h.b(), true, false),
              std::set<std::string>{gw_net + " === 10.99.157.1/32"});
    EXPECT_EQ(h.b().manager.pools().find("p")->online(), 1U);
    const auto problems = check_consistent(h);
    EXPECT_TRUE(problems.empty()) << join(problems);
}

}  // namespace
}  // namespace ikeplex::test
