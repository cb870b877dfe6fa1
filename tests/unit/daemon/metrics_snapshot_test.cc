// The metrics snapshot (daemon/metrics_snapshot.h): Prometheus naming, SA counts by state,
// and bounded series: 10,000 Child SAs add no series unless per_sa asks for them.
#include "daemon/metrics_snapshot.h"

#include <algorithm>
#include <string>

#include <asio/io_context.hpp>
#include <gtest/gtest.h>

#include "exchange_harness.h"
#include "kernel/backend_factory.h"

namespace ikeplex::test {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

class MetricsSnapshot : public ::testing::Test {
protected:
    /// An established IKE SA on node a with its Child SA from IKE_AUTH.
    void establish() {
        load(h, cfg, psk_credentials(), psk_credentials());
        h.act(h.a(), [&](ike::Step& s) { ASSERT_TRUE(h.a().manager.initiate("conn", "net", s)); });
        ASSERT_TRUE(h.run_until(
                [&] {
                    const auto est = h.a().established();
                    return est.size() == 1 && !est.front()->children().empty();
                },
                std::chrono::seconds(60)));
        sa = h.a().manager.find(h.a().established().front()->id());
    }

    /// `n` copies of the first Child SA (other ids and SPIs), made without exchanges: only
    /// the snapshot is under test.
    void add_children(std::uint32_t n) {
        const ike::ChildSa& first = *sa->children().front();
        for (std::uint32_t i = 0; i < n; ++i) {
            auto c = std::make_unique<ike::ChildSa>();
            c->id = 100000 + next_;
            c->config = first.config;
            c->reqid = first.reqid;
            c->state = ike::ChildState::kInstalled;
            c->spi_in = Spi(0xc1000000U + next_);
            c->spi_out = Spi(0xc2000000U + next_);
            ++next_;
            sa->add_child(std::move(c));
        }
    }

    std::vector<MetricFamily> snapshot(bool per_sa) {
        const daemon::MetricsSources s{h.a().manager, 0,        *backend, transport,
                                       vici,          counters, 1000000};
        return daemon::build_metrics(s, events, per_sa);
    }

    static std::size_t series(const std::vector<MetricFamily>& families) {
        std::size_t n = 0;
        for (const MetricFamily& f : families) {
            n += f.metric.size();
        }
        return n;
    }

    static const MetricFamily* find(const std::vector<MetricFamily>& families,
                                    const std::string& name) {
        for (const MetricFamily& f : families) {
            if (f.name == name) {
                return &f;
            }
        }
        return nullptr;
    }

    /// The value of `name`'s first sample with label `label` = `want` (no label: its first
    /// sample); -1 if there is none.
    static double value(const std::vector<MetricFamily>& families, const std::string& name,
                        const std::string& label = "", const std::string& want = "") {
        const MetricFamily* f = find(families, name);
        if (f == nullptr) {
            return -1;
        }
        for (const auto& m : f->metric) {
            const bool match = label.empty() ||
                               std::any_of(m.label.begin(), m.label.end(), [&](const auto& l) {
                                   return l.name == label && l.value == want;
                               });
            if (match) {
                return f->type == MetricType::Counter ? m.counter.value : m.gauge.value;
            }
        }
        return -1;
    }

    Harness h;
    PairConfig cfg = psk_pair();
    ike::IkeSa* sa{nullptr};
    std::uint32_t next_{0};
    std::unique_ptr<kernel::Backend> backend{
            std::move(kernel::make_backend(kernel::BackendSettings{.kind = "none"}, test_registry())
                              ->backend)};
    asio::io_context io;
    daemon::UdpTransport transport{io, [](ByteView, const Endpoint&, const Endpoint&) {}};
    vici::Server vici{io};
    daemon::DaemonCounters counters;
    daemon::EventTally events;
};

TEST_F(MetricsSnapshot, NamesTypesAndCounts) {
    establish();
    add_children(2);
    const auto f = snapshot(false);
    for (const MetricFamily& fam : f) {
        EXPECT_TRUE(fam.name.starts_with("ikeplex_")) << fam.name;
        EXPECT_EQ(fam.type == MetricType::Counter, fam.name.ends_with("_total")) << fam.name;
        EXPECT_FALSE(fam.help.empty()) << fam.name;
        EXPECT_FALSE(fam.name.starts_with("ikeplex_sa_")) << fam.name << " without per_sa";
    }
    EXPECT_EQ(value(f, "ikeplex_ike_sas", "state", "ESTABLISHED"), 1);
    EXPECT_EQ(value(f, "ikeplex_ike_sas", "state", "CONNECTING"), 0);
    EXPECT_EQ(value(f, "ikeplex_child_sas", "state", "INSTALLED"), 3);
    EXPECT_EQ(value(f, "ikeplex_connections"), 1);
    EXPECT_EQ(value(f, "ikeplex_child_rekeys_total"), 0);
    events.on_event(ike::Event{.kind = ike::EventKind::kChildRekeyed});
    events.on_event(ike::Event{.kind = ike::EventKind::kIkeRekeyed});
    events.on_event(ike::Event{.kind = ike::EventKind::kChildUp});
    const auto g = snapshot(false);
    EXPECT_EQ(value(g, "ikeplex_child_rekeys_total"), 1);
    EXPECT_EQ(value(g, "ikeplex_ike_rekeys_total"), 1);
}

TEST_F(MetricsSnapshot, TenThousandChildSasAddNoSeriesWithoutPerSa) {
    establish();
    const std::size_t bounded = series(snapshot(false));
    add_children(10000);
    const auto f = snapshot(false);
    EXPECT_EQ(series(f), bounded);
    EXPECT_EQ(value(f, "ikeplex_child_sas", "state", "INSTALLED"), 10001);
    // per_sa = yes: one info series for the IKE SA, bytes and packets in and out per Child SA.
    const auto per_sa = snapshot(true);
    EXPECT_EQ(series(per_sa), bounded + 1 + 4 * 10001);
    const MetricFamily* packets = find(per_sa, "ikeplex_sa_child_packets_total");
    ASSERT_NE(packets, nullptr);
    EXPECT_EQ(packets->metric.size(), 2U * 10001);
    EXPECT_EQ(packets->type, MetricType::Counter);
}

}  // namespace
}  // namespace ikeplex::test
