// The fixture of the RFC 9611 group tests (per_resource_test.cc, group_races_test.cc): a
// pair with per_cpu_sas on both sides (4 resources each unless said otherwise), run with either
// side as the initiator, and what the tests look at: each side's group, its CPUs, acquires.
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "flow_fixture.h"
#include "ike/per_resource.h"
#include "util/hex.h"

namespace ikeplex::test {

inline ike::Settings with_resources(std::uint32_t n) {
    ike::Settings s;
    s.resources = n;
    return s;
}

class Groups : public FlowTest {
protected:
    using ChildSa = ike::ChildSa;

    explicit Groups(std::uint32_t resources = 4) : FlowTest(with_resources(resources)) {
        for (auto* p : {&cfg.a, &cfg.b}) {
            p->children[0].per_cpu_sas = true;
            p->window_size = 4;
        }
    }

    /// A Child SA of node `n` (per_resource's view): the group members, fallback first.
    static std::vector<const ChildSa*> group(Node& n) {
        std::vector<const ChildSa*> out;
        for (const ike::IkeSa* sa : n.established()) {
            for (const auto& c : sa->children()) {
                if (c->group_member && c->state == ike::ChildState::kInstalled) {
                    out.push_back(c.get());
                }
            }
        }
        // The fallback first, then by resource.
        std::sort(out.begin(), out.end(), [](const ChildSa* x, const ChildSa* y) {
            return std::make_pair(!x->resource.is_none(), x->resource) <
                   std::make_pair(!y->resource.is_none(), y->resource);
        });
        return out;
    }

    static std::set<std::uint32_t> cpus(Node& n) {
        std::set<std::uint32_t> out;
        for (const ChildSa* c : group(n)) {
            if (!c->resource.is_none()) {
                out.insert(c->resource.index());
            }
        }
        return out;
    }

    static bool has_fallback(Node& n) {
        const auto g = group(n);
        return std::any_of(g.begin(), g.end(),
                           [](const ChildSa* c) { return c->resource.is_none(); });
    }

    void acquire(Node& n, std::uint32_t cpu) { acquire_on(h, n, cpu); }

    static void acquire_on(Harness& hh, Node& n, std::uint32_t cpu) {
        const ike::ChildConfig& child = n.manager.configs().front().children.front();
        const ReqId reqid = n.manager.reqid_for(n.manager.configs().front(), child);
        hh.act(n, [&](ike::Step& s) {
            n.manager.on_backend_event(ike::Acquire{reqid, ResourceId::cpu(cpu), {}, {}}, s);
        });
    }

    /// The members of a node's group per CPU.
    static std::map<std::uint32_t, std::size_t> per_cpu(Node& n) {
        std::map<std::uint32_t, std::size_t> out;
        for (const ChildSa* c : group(n)) {
            if (!c->resource.is_none()) {
                ++out[c->resource.index()];
            }
        }
        return out;
    }

    /// Each SA is the fallback on both sides or on neither (without reordering in the
    /// network, ikeplex peers agree; RFC 9611 has no way to say which one is meant).
    static void expect_same_roles(Node& n, Node& other, const std::string& what) {
        for (const ChildSa* c : group(n)) {
            for (const ChildSa* oc : group(other)) {
                if (oc->spi_out == c->spi_in) {
                    EXPECT_EQ(c->resource.is_none(), oc->resource.is_none())
                            << n.name << ": {" << c->id << "} and its twin, " << what;
                }
            }
        }
    }

    /// The fallback and exactly one member for each CPU of `wanted`, none with two.
    static void expect_one_per_cpu(Node& n, const std::set<std::uint32_t>& wanted,
                                   const std::string& what) {
        EXPECT_TRUE(has_fallback(n)) << n.name << ", " << what;
        std::size_t fallbacks = 0;
        for (const ChildSa* c : group(n)) {
            fallbacks += c->resource.is_none() ? 1U : 0U;
        }
        EXPECT_EQ(fallbacks, 1U) << n.name << ", " << what;
        for (const auto& [cpu, count] : per_cpu(n)) {
            EXPECT_EQ(count, 1U) << n.name << ": cpu " << cpu << ", " << what;
        }
        for (std::uint32_t cpu : wanted) {
            EXPECT_TRUE(per_cpu(n).contains(cpu))
                    << n.name << ": no member for cpu " << cpu << ", " << what;
        }
    }

    /// The kernel's first acquire of a trap policy: no SA at all, no CPU.
    void acquire_without_sa(Node& n) {
        const ike::ChildConfig& child = n.manager.configs().front().children.front();
        const ReqId reqid = n.manager.reqid_for(n.manager.configs().front(), child);
        h.act(n, [&](ike::Step& s) {
            n.manager.on_backend_event(ike::Acquire{reqid, ResourceId::none(), {}, {}}, s);
        });
    }

    static void expect_no_per_cpu_acquire(Node& n) {
        for (const auto& [key, p] : n.backend.policies) {
            EXPECT_FALSE(p.per_cpu_acquire) << n.name << ": a regular Child SA's policy";
        }
    }

    std::size_t child_requests() const {
        return h.count_sent(wire::ExchangeType::kCreateChildSa, false);
    }

    void establish() {
        load_psk();
        initiate();
        ASSERT_TRUE(up());
    }

    /// A pair with a harness of its own and a number of resources per side (a, b), the
    /// fixture's role (GetParam(): a initiates) and per_cpu_sas on both sides.
    struct OwnPair {
        OwnPair(bool a_initiates, std::uint32_t a_resources, std::uint32_t b_resources,
                std::uint64_t seed)
            : h(seed, with_resources(a_resources), with_resources(b_resources)),
              a_initiates(a_initiates) {
            for (auto* p : {&cfg.a, &cfg.b}) {
                p->children[0].per_cpu_sas = true;
                p->window_size = 4;
            }
        }
        Node& ini() { return a_initiates ? h.a() : h.b(); }
        Node& res() { return h.peer(ini()); }
        bool establish() {
            load(h, cfg, psk_credentials(), psk_credentials());
            h.act(ini(), [&](ike::Step& s) { (void)ini().manager.initiate("conn", "net", s); });
            return h.run_until([&] { return has_fallback(h.a()) && has_fallback(h.b()); },
                               std::chrono::seconds(60));
        }
        /// Runs `d`, noting whether either side was ever without its fallback.
        bool run_keeping_the_fallback(Duration d) {
            bool kept = true;
            h.run_until(
                    [&] {
                        kept = kept && has_fallback(h.a()) && has_fallback(h.b());
                        return false;
                    },
                    d);
            return kept;
        }

        Harness h;
        PairConfig cfg = psk_pair();
        bool a_initiates;
    };

    /// The SA_RESOURCE_INFO identifiers (RFC 9611 §5.1) in hex that a node announced
    /// (`sent`) or heard, in the messages it traced from `since` on; the fallback's empty one
    /// left out.
    static std::vector<std::string> announced_ids(const Node& n, bool sent, std::size_t since = 0) {
        std::vector<std::string> ids;
        for (const ike::MessageTrace* m :
             n.find({.sent = sent, .notify = wire::NotifyType::kSaResourceInfo, .since = since})) {
            const Bytes& id = notify_in(*m, wire::NotifyType::kSaResourceInfo)->data;
            if (!id.empty()) {
                ids.push_back(to_hex(id));
            }
        }
        return ids;
    }
};

}  // namespace ikeplex::test
