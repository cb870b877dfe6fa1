// RFC 9611 groups in the exchange harness, each test with either side as the initiator: the
// fallback and members on demand, all at once (window 16 vs 1), TS_MAX_QUEUE and back-off,
// peers without support, member rekeys (also simultaneous), fallback re-creation (also after
// an IKE rekey by either side), IKE rekey of a group, a member racing a Child rekey, duplicate
// acquires. Crossing requests and other races: group_races_test.cc.
#include <cstdio>
#include <set>

#include "groups_fixture.h"

namespace ikeplex::test {
namespace {

using ike::ChildSa;
using ike::EventKind;
using ikeplex::ResourceId;

TEST_P(Groups, FallbackThenMembersOnDemand) {
    establish();
    // IKE_AUTH made the fallback, with SA_RESOURCE_INFO both ways.
    ASSERT_EQ(group(ini()).size(), 1U);
    EXPECT_TRUE(has_fallback(ini()));
    EXPECT_TRUE(has_fallback(res()));
    // RFC 9611 §4: SA_RESOURCE_INFO without an identifier makes the fallback.
    const auto auth_request =
            ini().find({.sent = true, .exchange = wire::ExchangeType::kIkeAuth, .response = false});
    ASSERT_EQ(auth_request.size(), 1U);
    EXPECT_EQ(payload_summary(*auth_request[0]),
              "IDi IDr AUTH N(INIT_CONTACT) SA TSi TSr N(RES_INFO) N(SET_WINSIZE)");
    EXPECT_TRUE(notify_in(*auth_request[0], wire::NotifyType::kSaResourceInfo)->data.empty());
    const auto auth_response =
            res().find({.sent = true, .exchange = wire::ExchangeType::kIkeAuth, .response = true});
    ASSERT_EQ(auth_response.size(), 1U);
    EXPECT_EQ(payload_summary(*auth_response[0]), "IDr AUTH SA TSi TSr N(RES_INFO) N(SET_WINSIZE)");
    EXPECT_TRUE(notify_in(*auth_response[0], wire::NotifyType::kSaResourceInfo)->data.empty());
    for (std::uint32_t cpu : {2U, 0U, 3U}) {
        acquire(ini(), cpu);
    }
    settle();
    EXPECT_EQ(cpus(ini()), (std::set<std::uint32_t>{0, 2, 3}));
    // The responder binds each member to one of its own resources without one.
    EXPECT_EQ(cpus(res()).size(), 3U);
    EXPECT_TRUE(has_fallback(res()));
    // Members copy the group's selectors; requests and responses look like strongSwan's.
    for (const ChildSa* c : group(ini())) {
        EXPECT_EQ(c->local_ts, group(ini()).front()->local_ts);
        EXPECT_EQ(c->remote_ts, group(ini()).front()->remote_ts);
    }
    // Each member's request and answer carry an identifier of 4 octets, a different one for
    // every SA on each side (RFC 9611 §3).
    for (Node* n : {&ini(), &res()}) {
        const auto created =
                n->find({.sent = true, .exchange = wire::ExchangeType::kCreateChildSa});
        ASSERT_EQ(created.size(), 3U) << n->name;
        std::set<Bytes> ids;
        for (const ike::MessageTrace* m : created) {
            EXPECT_EQ(m->header.is_response(), n == &res()) << n->name;
            EXPECT_EQ(payload_summary(*m), "SA No TSi TSr N(RES_INFO)") << n->name;
            ids.insert(notify_in(*m, wire::NotifyType::kSaResourceInfo)->data);
        }
        EXPECT_EQ(ids.size(), 3U) << n->name;
        for (const Bytes& id : ids) {
            EXPECT_EQ(id.size(), 4U) << n->name;
        }
    }
    // The backend learns each SA's resource.
    std::set<std::uint32_t> installed_cpus;
    for (const auto& [key, sa] : ini().backend.sas) {
        if (!sa.resource.is_none()) {
            installed_cpus.insert(sa.resource.index());
        }
    }
    EXPECT_EQ(installed_cpus, (std::set<std::uint32_t>{0, 2, 3}));
    // The responder's side asks for a member for its resource without one (and not for one
    // that has one).
    ASSERT_EQ(cpus(res()), (std::set<std::uint32_t>{0, 1, 2}));
    acquire(res(), 1);
    acquire(res(), 3);
    settle();
    EXPECT_EQ(cpus(res()).size(), 4U);
    EXPECT_EQ(group(ini()).size(), 5U);
    expect_consistent();
}

TEST_P(Groups, DuplicateAcquiresMakeOneMember) {
    establish();
    const std::size_t before = child_requests();
    for (int i = 0; i < 5; ++i) {
        acquire(ini(), 1);
    }
    h.run_for(std::chrono::milliseconds(2));  // still in flight
    acquire(ini(), 1);
    settle();
    acquire(ini(), 1);  // already has one
    settle();
    EXPECT_EQ(child_requests() - before, 1U);
    EXPECT_EQ(cpus(ini()), (std::set<std::uint32_t>{1}));
    expect_consistent();
}

TEST_P(Groups, AcquireWithoutAnSaMakesTheFallbackFirst) {
    load_psk();
    acquire(ini(), 2);  // no IKE SA yet: IKE SA + fallback
    ASSERT_TRUE(up());
    EXPECT_TRUE(has_fallback(ini()));
    EXPECT_TRUE(cpus(ini()).empty());
    acquire(ini(), 2);  // the member now
    settle();
    EXPECT_EQ(cpus(ini()), (std::set<std::uint32_t>{2}));
    expect_consistent();
}

TEST_P(Groups, TsMaxQueueAtTheLimitAndTheBackOff) {
    res_cfg().children[0].per_cpu_sas_max = 2;
    establish();
    acquire(ini(), 0);
    acquire(ini(), 1);
    settle();
    acquire(ini(), 2);
    h.run_for(std::chrono::seconds(1));
    EXPECT_EQ(cpus(ini()).size(), 2U);
    // The third request was answered with TS_MAX_QUEUE alone (RFC 9611), and the initiator
    // got it.
    MessageQuery refusal{.exchange = wire::ExchangeType::kCreateChildSa,
                         .response = true,
                         .notify = wire::NotifyType::kTsMaxQueue};
    refusal.sent = true;
    const auto sent = res().find(refusal);
    ASSERT_EQ(sent.size(), 1U);
    EXPECT_EQ(payload_summary(*sent[0]), "N(TS_MAX_QUEUE)");
    refusal.sent = false;
    EXPECT_EQ(ini().count(refusal), 1U);
    // Counted on both sides (the metrics' ikeplex_ts_max_queue_{sent,received}_total).
    EXPECT_EQ(res().manager.counters().ts_max_queue_sent, 1U);
    EXPECT_EQ(res().manager.counters().ts_max_queue_received, 0U);
    EXPECT_EQ(ini().manager.counters().ts_max_queue_received, 1U);
    EXPECT_EQ(ini().manager.counters().ts_max_queue_sent, 0U);
    // The third was refused, the fourth not even asked for (back-off); the IKE SA stands.
    const std::size_t after_refusal = child_requests();
    EXPECT_EQ(only_sa(ini()).state(), ike::IkeState::kEstablished);
    acquire(ini(), 3);
    h.run_for(std::chrono::seconds(1));
    EXPECT_EQ(child_requests(), after_refusal);
    // When a member goes away, the group has room again.
    const ChildSa* member = group(ini()).back();
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.terminate_child(member->id, s)); });
    settle();
    acquire(ini(), 3);
    settle();
    EXPECT_EQ(cpus(ini()).size(), 2U);
    EXPECT_TRUE(cpus(ini()).contains(3));
    expect_consistent();
}

TEST_P(Groups, BackOffExpires) {
    res_cfg().children[0].per_cpu_sas_max = 1;
    establish();
    acquire(ini(), 0);
    settle();
    acquire(ini(), 1);  // refused
    settle();
    const std::size_t refused = child_requests();
    h.run_for(std::chrono::seconds(61));  // past the back-off
    acquire(ini(), 1);
    settle();
    EXPECT_EQ(child_requests(), refused + 1);  // asked again (and refused again)
    EXPECT_EQ(cpus(ini()).size(), 1U);
    expect_consistent();
}

TEST_P(Groups, PeerWithoutSupportGetsARegularChildSa) {
    res_cfg().children[0].per_cpu_sas = false;
    establish();
    EXPECT_TRUE(group(ini()).empty());
    EXPECT_EQ(installed(ini()).size(), 1U);
    // The initiator offered the group (SA_RESOURCE_INFO in IKE_AUTH), the responder's answer
    // did not take it up: a regular Child SA, and members are not asked for (below).
    EXPECT_EQ(ini().count({.sent = true,
                           .exchange = wire::ExchangeType::kIkeAuth,
                           .response = false,
                           .notify = wire::NotifyType::kSaResourceInfo}),
              1U);
    EXPECT_EQ(res().count({.sent = true, .notify = wire::NotifyType::kSaResourceInfo}), 0U);
    EXPECT_FALSE(only_sa(ini()).children().front()->group_member);
    const std::size_t before = child_requests();
    acquire(ini(), 1);
    acquire(ini(), 2);
    settle();
    EXPECT_EQ(child_requests(), before);  // no member requested
    EXPECT_EQ(installed(ini()).size(), 1U);
    // A regular Child SA's policy asks for no per-CPU acquires (XFRM_POLICY_CPU_ACQUIRE would
    // hold each CPU's first packet on a larval state nobody resolves).
    expect_no_per_cpu_acquire(ini());
    expect_no_per_cpu_acquire(res());
    expect_consistent();
}

TEST_P(Groups, TrapOfADegradedGroupLosesPerCpuAcquiresUntilTheSaGoes) {
    // A trap policy with per-CPU acquires; the peer has no RFC 9611: the installed policy is a
    // regular one; when the Child SA goes, the trap comes back with per-CPU acquires.
    res_cfg().children[0].per_cpu_sas = false;
    ini_cfg().children[0].start_action = ike::StartAction::kTrap;
    load_psk();
    h.act(ini(), [&](ike::Step& s) { ini().manager.start_actions(s); });
    ASSERT_EQ(ini().backend.policies.size(), 1U);
    EXPECT_TRUE(ini().backend.policies.begin()->second.trap);
    EXPECT_TRUE(ini().backend.policies.begin()->second.per_cpu_acquire);
    acquire_without_sa(ini());
    settle();
    ASSERT_EQ(installed(ini()).size(), 1U);
    ASSERT_EQ(ini().backend.policies.size(), 1U);
    EXPECT_FALSE(ini().backend.policies.begin()->second.trap);
    expect_no_per_cpu_acquire(ini());
    // The trap lost its per-CPU acquires before the first SA went in.
    EXPECT_EQ(ini().backend.per_cpu_dropped_after_installs, std::optional<std::uint64_t>(0));
    const std::uint32_t id = installed(ini()).front();
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.terminate_child(id, s)); });
    settle();
    ASSERT_EQ(ini().backend.policies.size(), 1U);
    EXPECT_TRUE(ini().backend.policies.begin()->second.trap);
    EXPECT_TRUE(ini().backend.policies.begin()->second.per_cpu_acquire);
    expect_consistent();
}

TEST_P(Groups, InitiatorWithoutSupport) {
    ini_cfg().children[0].per_cpu_sas = false;
    establish();
    EXPECT_TRUE(group(res()).empty());
    // No SA_RESOURCE_INFO either way: the responder made a regular Child SA of the request
    // without one (RFC 9611 §4), and asks for no members (below).
    EXPECT_EQ(ini().count({.notify = wire::NotifyType::kSaResourceInfo}), 0U);
    EXPECT_EQ(res().count({.notify = wire::NotifyType::kSaResourceInfo}), 0U);
    EXPECT_EQ(res().count({.sent = true,
                           .exchange = wire::ExchangeType::kIkeAuth,
                           .response = true,
                           .payloads = "IDr AUTH SA TSi TSr N(SET_WINSIZE)"}),
              1U);
    EXPECT_FALSE(only_sa(res()).children().front()->group_member);
    const std::size_t before = child_requests();
    acquire(res(), 1);
    settle();
    EXPECT_EQ(child_requests(), before);
    expect_consistent();
}

TEST_P(Groups, MemberRekeyKeepsItsResource) {
    establish();
    acquire(ini(), 3);
    settle();
    const ChildSa* member = group(ini()).back();
    ASSERT_EQ(member->resource, ResourceId::cpu(3));
    const std::uint32_t old_id = member->id;
    const ResourceId res_side = group(res()).back()->resource;
    const Spi old_spi = member->spi_in;
    const std::size_t before = ini().messages.size();
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_child(old_id, s)); });
    settle();
    const ChildSa* renewed = group(ini()).back();
    EXPECT_NE(renewed->id, old_id);
    EXPECT_EQ(renewed->resource, ResourceId::cpu(3));
    EXPECT_EQ(group(res()).back()->resource, res_side);
    EXPECT_EQ(group(ini()).size(), 2U);
    // As strongSwan: REKEY_SA (naming the member's SA) and no SA_RESOURCE_INFO on a rekey,
    // either way.
    const auto rekey = ini().find({.sent = true,
                                   .exchange = wire::ExchangeType::kCreateChildSa,
                                   .response = false,
                                   .since = before});
    ASSERT_EQ(rekey.size(), 1U);
    EXPECT_EQ(payload_summary(*rekey[0]), "N(REKEY_SA) SA No TSi TSr");
    EXPECT_EQ(spi_from(notify_in(*rekey[0], wire::NotifyType::kRekeySa)->spi), old_spi);
    EXPECT_EQ(ini().count({.sent = false,
                           .exchange = wire::ExchangeType::kCreateChildSa,
                           .response = true,
                           .payloads = "SA No TSi TSr",
                           .since = before}),
              1U);
    expect_consistent();
}

TEST_P(Groups, SimultaneousMemberRekeyKeepsTheResource) {
    establish();
    acquire(ini(), 1);
    settle();
    const ChildSa* mi = group(ini()).back();
    const ChildSa* mr = nullptr;
    for (const ChildSa* c : group(res())) {
        if (c->spi_out == mi->spi_in) {
            mr = c;
        }
    }
    ASSERT_NE(mr, nullptr);
    const ResourceId ri = mi->resource;
    const ResourceId rr = mr->resource;
    const std::uint32_t idi = mi->id;
    const std::uint32_t idr = mr->id;
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_child(idi, s)); });
    h.act(res(), [&](ike::Step& s) { ASSERT_TRUE(res().manager.rekey_child(idr, s)); });
    settle();
    ASSERT_EQ(group(ini()).size(), 2U);
    ASSERT_EQ(group(res()).size(), 2U);
    EXPECT_EQ(group(ini()).back()->resource, ri);
    EXPECT_EQ(group(res()).back()->resource, rr);
    expect_consistent();
}

TEST_P(Groups, DeletedFallbackIsRecreated) {
    establish();
    acquire(ini(), 0);
    acquire(ini(), 1);
    settle();
    for (bool by_initiator : {true, false}) {
        Node& n = by_initiator ? ini() : res();
        const ChildSa* fallback = group(n).front();
        ASSERT_TRUE(fallback->resource.is_none());
        const std::uint32_t id = fallback->id;
        h.act(n, [&](ike::Step& s) { ASSERT_TRUE(n.manager.terminate_child(id, s)); });
        settle();
        EXPECT_TRUE(has_fallback(ini()))
                << (by_initiator ? "deleted by the initiator" : "deleted by the responder");
        EXPECT_TRUE(has_fallback(res()));
        EXPECT_NE(group(n).front()->id, id);
        EXPECT_EQ(cpus(ini()), (std::set<std::uint32_t>{0, 1}));
        expect_consistent();
    }
}

TEST_P(Groups, DeletedFallbackIsRecreatedAfterAnIkeRekey) {
    // After an IKE rekey the rekey's initiator is the original initiator of the new IKE SA;
    // whoever rekeyed and whoever deletes the fallback, it comes back on both sides.
    establish();
    acquire(ini(), 0);
    acquire(ini(), 1);
    settle();
    for (bool during_the_rekey : {false, true}) {
        for (bool rekey_by_initiator : {true, false}) {
            for (bool delete_by_initiator : {true, false}) {
                const std::string what = std::string("IKE rekey by the ") +
                                         (rekey_by_initiator ? "initiator" : "responder") +
                                         ", fallback deleted by the " +
                                         (delete_by_initiator ? "initiator" : "responder") +
                                         (during_the_rekey ? " during the rekey" : " after it");
                Node& r = rekey_by_initiator ? ini() : res();
                const std::uint32_t ike_id = only_sa(r).id();
                h.act(r, [&](ike::Step& s) { ASSERT_TRUE(r.manager.rekey_ike(ike_id, s)); });
                if (!during_the_rekey) {
                    settle();
                    ASSERT_NE(only_sa(r).id(), ike_id) << what;
                }
                Node& n = delete_by_initiator ? ini() : res();
                const ChildSa* fallback = group(n).front();
                ASSERT_TRUE(fallback->resource.is_none()) << what;
                const std::uint32_t id = fallback->id;
                h.act(n, [&](ike::Step& s) { ASSERT_TRUE(n.manager.terminate_child(id, s)); });
                settle();
                EXPECT_TRUE(has_fallback(ini())) << what;
                EXPECT_TRUE(has_fallback(res())) << what;
                EXPECT_EQ(cpus(ini()), (std::set<std::uint32_t>{0, 1})) << what;
                EXPECT_EQ(group(ini()).size(), 3U) << what;
                EXPECT_EQ(group(res()).size(), 3U) << what;
                expect_same_roles(ini(), res(), what);
                expect_consistent();
            }
        }
    }
}
TEST_P(Groups, MemberCreationRacesAChildRekey) {
    establish();
    acquire(ini(), 0);
    settle();
    const std::uint32_t fallback = group(ini()).front()->id;
    const std::uint32_t res_member = group(res()).back()->id;
    // The initiator rekeys the fallback while asking for a member; the responder rekeys its
    // member meanwhile.
    h.act(ini(), [&](ike::Step& s) { ASSERT_TRUE(ini().manager.rekey_child(fallback, s)); });
    acquire(ini(), 2);
    h.act(res(), [&](ike::Step& s) { ASSERT_TRUE(res().manager.rekey_child(res_member, s)); });
    settle();
    EXPECT_TRUE(has_fallback(ini()));
    EXPECT_EQ(cpus(ini()), (std::set<std::uint32_t>{0, 2}));
    EXPECT_EQ(group(ini()).size(), 3U);
    EXPECT_EQ(group(res()).size(), 3U);
    expect_consistent();
}

TEST_P(Groups, DeletingTheIkeSaRemovesTheGroup) {
    establish();
    acquire(ini(), 0);
    acquire(ini(), 3);
    settle();
    h.act(res(),
          [&](ike::Step& s) { ASSERT_TRUE(res().manager.terminate_ike(only_sa(res()).id(), s)); });
    settle();
    expect_empty();
}

TEST_P(Groups, FailingInstallsBackOffThenStopTheGroup) {
    // Both backends refuse every SA (kernels without ESP): a deleted fallback is re-created,
    // refused again, deleted... The group backs off (TEMPORARY_FAILURE to the peer while it
    // waits) and after kMaxInstallFailures stops on this IKE SA with one error, instead of
    // creating and deleting its fallback without end (seen live: thousands of Child SAs).
    ini_cfg().children[0].per_cpu_sas_start = ike::PerCpuStart::kAll;
    for (Node* n : {&ini(), &res()}) {  // both kernels without ESP
        n->backend.refuse = [](const ike::InstallSa&) { return true; };
    }
    load_psk();
    initiate();
    h.run_for(std::chrono::seconds(120));
    EXPECT_LE(child_requests(), 12U) << "the group keeps re-creating what cannot be installed";
    // The responder's backend refused the fallback's two SAs (in and out) that IKE_AUTH made:
    // no new SA of the group for 1 s, then for 2 s (the wait doubles with each refused SA).
    // Every request of those 2 s got TEMPORARY_FAILURE alone, also after the first second; the
    // first one after was accepted, and its SA refused too: the third, so the group stopped,
    // and every later request got NO_PROPOSAL_CHOSEN.
    const auto auth =
            res().find({.sent = true, .exchange = wire::ExchangeType::kIkeAuth, .response = true});
    ASSERT_EQ(auth.size(), 1U);
    const TimePoint first_refusal = res().time_of(*auth[0]);
    const ike::MessageTrace* accepted = nullptr;
    std::size_t waited = 0;
    std::size_t after_the_first_second = 0;
    std::size_t stopped = 0;
    for (const ike::MessageTrace* m : res().find({.sent = true,
                                      .exchange = wire::ExchangeType::kCreateChildSa,
                                      .response = true})) {
        const Duration after = res().time_of(*m) - first_refusal;
        if (after < std::chrono::seconds(2)) {
            EXPECT_EQ(payload_summary(*m), "N(TEMP_FAIL)") << after.count() << " ms after";
            ++waited;
            after_the_first_second += after >= std::chrono::seconds(1) ? 1U : 0U;
        } else if (accepted == nullptr) {
            accepted = m;
            EXPECT_EQ(payload_summary(*m), "SA No TSi TSr N(RES_INFO)");
        } else {
            EXPECT_EQ(payload_summary(*m), "N(NO_PROP)") << after.count() << " ms after";
            ++stopped;
        }
    }
    EXPECT_GE(waited, 2U);
    EXPECT_GE(after_the_first_second, 1U);  // a wait of 1 s would have let these through
    ASSERT_NE(accepted, nullptr);
    EXPECT_GE(stopped, 1U);
    // It deleted both SAs it could not install (by its inbound SPIs), and never asked for one.
    EXPECT_EQ(deleted_child_spis(res()),
              (std::vector<Spi>{*proposed_spi(*auth[0]), *proposed_spi(*accepted)}));
    EXPECT_EQ(res().count({.sent = true,
                           .exchange = wire::ExchangeType::kCreateChildSa,
                           .response = false}),
              0U);
    EXPECT_TRUE(res().backend.sas.empty());     // nothing half-installed
    EXPECT_EQ(res().established().size(), 1U);  // the IKE SA stays
    EXPECT_EQ(ini().established().size(), 1U);
    // Later traffic asks for nothing more on this IKE SA.
    const std::size_t before = child_requests();
    acquire(res(), 1);
    h.run_for(std::chrono::seconds(10));
    EXPECT_EQ(child_requests(), before);
}

INSTANTIATE_TEST_SUITE_P(Roles, Groups, ::testing::Bool(), role_name);

/// `per_cpu_sas_start = all` with 16 resources at a given window.
class GroupsAll : public Groups {
protected:
    GroupsAll() : Groups(16) {
        for (auto* p : {&cfg.a, &cfg.b}) {
            p->children[0].per_cpu_sas_start = ike::PerCpuStart::kAll;
        }
    }

    /// Virtual time from the fallback being up on the initiator to the whole group being up
    /// on both sides.
    Duration group_time(std::uint32_t window) {
        for (auto* p : {&cfg.a, &cfg.b}) {
            p->window_size = window;
        }
        load_psk();
        initiate();
        EXPECT_TRUE(h.run_until([&] { return has_fallback(ini()); }, std::chrono::seconds(30)));
        const TimePoint start = h.now();
        EXPECT_TRUE(
                h.run_until([&] { return group(ini()).size() == 17 && group(res()).size() == 17; },
                            std::chrono::seconds(60)));
        return h.now() - start;
    }
};

TEST_P(GroupsAll, WholeGroupWithinTwoRoundTripsAtWindow16) {
    const Duration rtt = 2 * h.conditions.delay;
    const Duration t = group_time(16);
    std::printf("per_cpu_sas_start=all, 16 resources, window 16: group up in %lld ms (%.1f RTT)\n",
                static_cast<long long>(t.count()),
                static_cast<double>(t.count()) / static_cast<double>(rtt.count()));
    EXPECT_LE(t, 2 * rtt);
    EXPECT_EQ(cpus(ini()).size(), 16U);
    EXPECT_EQ(cpus(res()).size(), 16U);
    expect_consistent();
}

TEST_P(GroupsAll, TakesFifteenRoundTripsAtWindow1) {
    const Duration rtt = 2 * h.conditions.delay;
    const Duration t = group_time(1);
    std::printf("per_cpu_sas_start=all, 16 resources, window 1: group up in %lld ms (%.1f RTT)\n",
                static_cast<long long>(t.count()),
                static_cast<double>(t.count()) / static_cast<double>(rtt.count()));
    EXPECT_GE(t, 15 * rtt);
    expect_consistent();
}

TEST_P(GroupsAll, IkeRekeyCarriesAGroupOfEight) {
    ike::Settings s;
    s.resources = 8;
    Harness h8(11, s);
    PairConfig c = psk_pair();
    for (auto* p : {&c.a, &c.b}) {
        p->children[0].per_cpu_sas = true;
        p->children[0].per_cpu_sas_start = ike::PerCpuStart::kAll;
        p->window_size = 8;
    }
    load(h8, c, psk_credentials(), psk_credentials());
    Node& i = GetParam() ? h8.a() : h8.b();
    Node& r = h8.peer(i);
    h8.act(i, [&](ike::Step& st) { ASSERT_TRUE(i.manager.initiate("conn", "net", st)); });
    h8.run_for(kSettle);
    ASSERT_EQ(installed(i).size(), 9U);
    const std::uint32_t old_ike = i.established().front()->id();
    const auto before = installed(i);
    h8.act(r, [&](ike::Step& st) {
        ASSERT_TRUE(r.manager.rekey_ike(r.established().front()->id(), st));
    });
    h8.run_for(kSettle);
    ASSERT_EQ(i.established().size(), 1U);
    EXPECT_NE(i.established().front()->id(), old_ike);
    EXPECT_EQ(installed(i), before);  // the same Child SAs, moved
    for (const auto& ch : i.established().front()->children()) {
        EXPECT_TRUE(ch->group_member);
    }
    EXPECT_TRUE(check_consistent(h8).empty()) << join(check_consistent(h8));
    // The group keeps working on the new IKE SA: a member rekey.
    const std::uint32_t member = i.established().front()->children().back()->id;
    h8.act(i, [&](ike::Step& st) { ASSERT_TRUE(i.manager.rekey_child(member, st)); });
    h8.run_for(kSettle);
    EXPECT_EQ(installed(i).size(), 9U);
    EXPECT_TRUE(check_consistent(h8).empty()) << join(check_consistent(h8));
}

INSTANTIATE_TEST_SUITE_P(Roles, GroupsAll, ::testing::Bool(), role_name);

}  // namespace
}  // namespace ikeplex::test
