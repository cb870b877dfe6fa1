// The randomized simulator (issue 4): seeded scenarios of set-ups, rekeys (by operators and
// by lifetimes) and deletes from both sides under 0–30 % loss, duplication and reordering,
// each followed by a loss-free settle phase, then the invariants of check_consistent() and
// of RFC 9611 groups (check_groups()) and, after everything is deleted, check_empty().
//
//   IKEPLEX_SIM_SEED=N       run only scenario N (printed when one fails)
//   IKEPLEX_SIM_SCENARIOS=N  run N scenarios (default 1000)
#include <cstdlib>
#include <map>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "exchange_harness.h"
#include "ike/proposal.h"
#include "log_capture.h"

namespace ikeplex::test {
namespace {

using ike::EventKind;
using std::chrono::seconds;

struct Outcome {
    bool established{false};
    std::size_t rekeys{0};
    std::size_t actions{0};
    std::size_t members{0};  ///< RFC 9611 resource-bound members up at the check
    std::vector<std::string> problems;
};

class Dice {
public:
    explicit Dice(std::uint64_t seed) : r_(seed) {}
    std::uint32_t below(std::uint32_t n) { return n == 0 ? 0 : r_.u32() % n; }
    double percent(std::uint32_t max) { return static_cast<double>(below(max + 1)) / 100.0; }
    bool coin() { return below(2) == 0; }

private:
    DeterministicRandom r_;
};

std::vector<std::uint32_t> children_of(Node& n) {
    std::vector<std::uint32_t> ids;
    for (const ike::IkeSa* sa : n.established()) {
        for (const auto& c : sa->children()) {
            if (c->state == ike::ChildState::kInstalled) {
                ids.push_back(c->id);
            }
        }
    }
    return ids;
}

/// No exchange under way anywhere and nothing in a transitional state.
bool quiet(Node& n) {
    for (const ike::IkeSa* sa : n.manager.sas()) {
        if (sa->state() != ike::IkeState::kEstablished || sa->outstanding() != 0) {
            return false;
        }
        for (const auto& c : sa->children()) {
            if (c->state != ike::ChildState::kInstalled) {
                return false;
            }
        }
    }
    return true;
}

/// RFC 9611 groups once settled (both sides have the same resources here): a group with
/// members has exactly one fallback, and no resource has two members on either side (crossing
/// requests left one, docs/rfc-compliance.md).
void check_groups(Node& n, std::vector<std::string>& problems) {
    for (const ike::IkeSa* sa : n.established()) {
        std::map<std::string, std::size_t> fallbacks;
        std::map<std::string, std::map<ResourceId, std::size_t>> members;
        for (const auto& c : sa->children()) {
            if (!c->group_member || c->state != ike::ChildState::kInstalled) {
                continue;
            }
            if (c->resource.is_none()) {
                ++fallbacks[c->name()];
            } else {
                ++members[c->name()][c->resource];
            }
        }
        for (const auto& [name, per_resource] : members) {
            if (fallbacks[name] != 1) {
                problems.push_back(fmt::format("{}: group {} of {} has {} members and {} fallbacks",
                                               n.name, name, sa->label(), per_resource.size(),
                                               fallbacks[name]));
            }
            for (const auto& [resource, count] : per_resource) {
                if (count > 1) {
                    problems.push_back(fmt::format("{}: group {} of {} has {} members for {}",
                                                   n.name, name, sa->label(), count, resource));
                }
            }
        }
        for (const auto& [name, count] : fallbacks) {
            if (count > 1) {
                problems.push_back(fmt::format("{}: group {} of {} has {} fallbacks", n.name, name,
                                               sa->label(), count));
            }
        }
    }
}

void configure(Dice& d, PairConfig& cfg) {
    static const char* const kIke[] = {"aes128gcm16-prfsha256-x25519",
                                       "aes256gcm16-prfsha384-ecp256", "aes128-sha256-x25519",
                                       "chacha20poly1305-prfsha256-x25519"};
    static const char* const kEsp[] = {"aes128gcm16", "aes256gcm16-x25519", "aes128-sha256",
                                       "aes128gcm16-ecp256"};
    const char* ike = kIke[d.below(4)];
    const char* esp = kEsp[d.below(4)];
    const bool per_cpu = d.coin();
    const std::uint32_t max = 1 + d.below(4);
    const auto start = d.coin() ? ike::PerCpuStart::kAll : ike::PerCpuStart::kAcquire;
    for (ike::PeerConfig* p : {&cfg.a, &cfg.b}) {
        p->children[0].per_cpu_sas = per_cpu && (d.below(8) != 0);  // sometimes one side lacks it
        p->children[0].per_cpu_sas_max = max;
        p->children[0].per_cpu_sas_start = start;
        p->ike_proposals = *ike::parse_proposals(ike, wire::ProtocolId::kIke);
        p->children[0].esp_proposals = *ike::parse_proposals(esp, wire::ProtocolId::kEsp);
        p->window_size = 1 + d.below(3);
        p->dpd_delay = seconds(30);
        p->rekey_time = seconds(120 + d.below(240));
        p->rand_time = seconds(20);
        p->over_time = seconds(60);
        ike::Lifetimes& l = p->children[0].lifetimes;
        l.rekey_time = seconds(40 + d.below(80));
        l.rand_time = seconds(10);
        l.life_time = l.rekey_time + seconds(30);
    }
}

void act_randomly(Harness& h, Dice& d, std::uint32_t resources) {
    Node& n = d.coin() ? h.a() : h.b();
    const auto sas = n.established();
    const auto kids = children_of(n);
    const auto acquire = [&](Node& on, ResourceId cpu) {
        const ike::ChildConfig& child = on.manager.configs().front().children.front();
        const ReqId reqid = on.manager.reqid_for(on.manager.configs().front(), child);
        h.act(on, [&](ike::Step& s) {
            on.manager.on_backend_event(ike::Acquire{reqid, cpu, {}, {}}, s);
        });
    };
    switch (d.below(10)) {
        case 8:
            // Traffic on a CPU without its own SA (RFC 9611 groups; ignored otherwise); the
            // kernel only names CPUs that exist.
            acquire(n, ResourceId::cpu(d.below(resources)));
            break;
        case 9: {
            // A ping and its reply: both kernels ask for the same CPU, the reply's a few ms
            // later (the requests cross).
            const auto cpu = ResourceId::cpu(d.below(resources));
            acquire(n, cpu);
            h.run_for(std::chrono::milliseconds(d.below(12)));
            acquire(h.peer(n), cpu);
            break;
        }
        case 0:
        case 1:
            h.act(n, [&](ike::Step& s) { (void)n.manager.initiate("conn", "net", s); });
            break;
        case 2:
        case 3:
            if (!kids.empty()) {
                h.act(n, [&](ike::Step& s) {
                    (void)n.manager.rekey_child(
                            kids[d.below(static_cast<std::uint32_t>(kids.size()))], s);
                });
            }
            break;
        case 4:
            if (!sas.empty()) {
                h.act(n, [&](ike::Step& s) {
                    (void)n.manager.rekey_ike(
                            sas[d.below(static_cast<std::uint32_t>(sas.size()))]->id(), s);
                });
            }
            break;
        case 5:
            if (!kids.empty()) {
                h.act(n, [&](ike::Step& s) {
                    (void)n.manager.terminate_child(
                            kids[d.below(static_cast<std::uint32_t>(kids.size()))], s);
                });
            }
            break;
        case 6:
            if (!sas.empty() && d.below(3) == 0) {
                h.act(n, [&](ike::Step& s) {
                    (void)n.manager.terminate_ike(
                            sas[d.below(static_cast<std::uint32_t>(sas.size()))]->id(), s);
                });
            }
            break;
        default:
            break;  // let time pass
    }
}

Outcome run_scenario(std::uint64_t seed) {
    Outcome out;
    Dice d(seed * 7919 + 17);
    ike::Settings settings;
    settings.resources = 1 + d.below(4);
    Harness h(seed, settings);
    LogCapture::quiet();
    PairConfig cfg = psk_pair();
    configure(d, cfg);
    load(h, cfg, psk_credentials(), psk_credentials());
    h.conditions.loss = d.percent(30);
    h.conditions.duplicate = d.percent(30);
    h.conditions.reorder = d.percent(30);

    // Active phase: about ten minutes of random operations.
    Node& first = d.coin() ? h.a() : h.b();
    h.act(first, [&](ike::Step& s) { (void)first.manager.initiate("conn", "net", s); });
    for (int i = 0; i < 12; ++i) {
        h.run_for(seconds(5 + d.below(60)));
        act_randomly(h, d, settings.resources);
        ++out.actions;
    }
    // Settle without loss, longer than every retransmit budget, DPD and half-open timeout;
    // then wait for a quiet moment (lifetimes keep rekeying) and compare.
    h.conditions = NetConditions{};
    h.run_for(seconds(600));
    if (!h.run_until([&] { return quiet(h.a()) && quiet(h.b()); }, seconds(300))) {
        out.problems.emplace_back("never quiet after the settle phase");
    }
    h.run_for(seconds(1));  // datagrams in flight (e.g. a last DPD) land
    h.run_until([&] { return quiet(h.a()) && quiet(h.b()); }, seconds(300));
    for (const ike::IkeSa* sa : h.a().manager.sas()) {
        for (const auto& c : sa->children()) {
            out.members += c->group_member && !c->resource.is_none() ? 1U : 0U;
        }
    }
    auto problems = check_consistent(h);
    out.problems.insert(out.problems.end(), problems.begin(), problems.end());
    check_groups(h.a(), out.problems);
    check_groups(h.b(), out.problems);
    out.established = h.a().count(EventKind::kIkeUp) > 0 || h.b().count(EventKind::kIkeUp) > 0;
    // Each rekey is reported on both sides; count a's.
    out.rekeys = h.a().count(EventKind::kChildRekeyed) + h.a().count(EventKind::kIkeRekeyed);

    // Finally delete everything and check that nothing is left behind.
    for (Node* n : {&h.a(), &h.b()}) {
        for (const ike::IkeSa* sa : n->manager.sas()) {
            const std::uint32_t id = sa->id();
            h.act(*n, [&](ike::Step& s) { (void)n->manager.terminate_ike(id, s); });
        }
    }
    h.run_for(seconds(300));
    for (Node* n : {&h.a(), &h.b()}) {
        problems = check_empty(*n);
        out.problems.insert(out.problems.end(), problems.begin(), problems.end());
    }
    return out;
}

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

TEST(Simulator, RandomScenariosKeepBothSidesConsistent) {
    const std::uint64_t only = env_number("IKEPLEX_SIM_SEED", 0);
    const std::uint64_t count = only != 0 ? 1 : env_number("IKEPLEX_SIM_SCENARIOS", 1000);
    std::size_t established = 0;
    std::size_t rekeys = 0;
    std::size_t failed = 0;
    std::size_t members = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
        const std::uint64_t seed = only != 0 ? only : i + 1;
        const Outcome o = run_scenario(seed);
        established += o.established ? 1U : 0U;
        rekeys += o.rekeys;
        members += o.members;
        if (!o.problems.empty()) {
            ++failed;
            std::string text;
            for (const std::string& p : o.problems) {
                text += "  " + p + "\n";
            }
            ADD_FAILURE() << "scenario seed " << seed
                          << " failed (rerun alone: IKEPLEX_SIM_SEED=" << seed
                          << " IKEPLEX_LOG=1 tests/sim_test):\n"
                          << text;
            if (failed >= 5) {
                break;  // enough to debug with
            }
        }
    }
    std::printf(
            "simulator: %llu scenarios, %zu established (%.1f %%), %zu rekeys, %zu RFC 9611 "
            "members, %zu failed\n",
            static_cast<unsigned long long>(count), established,
            100.0 * static_cast<double>(established) / static_cast<double>(count), rekeys, members,
            failed);
    if (only == 0) {
        // Not vacuous: most scenarios got somewhere, and rekeying was exercised a lot.
        EXPECT_GE(static_cast<double>(established), 0.9 * static_cast<double>(count));
        EXPECT_GE(rekeys, count);
        EXPECT_GE(members, count / 4);  // groups were exercised too
    }
}

}  // namespace
}  // namespace ikeplex::test
