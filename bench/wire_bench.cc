// Parse and write an IKE_AUTH-sized message (the decrypted contents of an IKE_AUTH request
// with a certificate, ~1 KB) and a real IKE_SA_INIT request. Baseline in the same run: copying
// the same bytes into a fresh vector. Prints ratio lines "B-wire <op>/copy=<x>" after the
// Google Benchmark table (informational: no gate on these).
#include <cstring>
#include <map>
#include <string>

#include <benchmark/benchmark.h>
#include <unistd.h>

#include "sample_messages.h"
#include "wire/message.h"

namespace {

using namespace ikeplex;

const Bytes& cert_der() {
    // A typical ECDSA P-256 end-entity certificate is ~450 bytes; this stands in for one.
    static const Bytes cert(450, 0x30);
    return cert;
}

const std::vector<wire::Payload>& auth_inner() {
    static const auto p = test::sample_ike_auth_request_inner(cert_der());
    return p;
}

const Bytes& auth_bytes() {
    static const Bytes b = wire::write_payload_chain(auth_inner()).value();
    return b;
}

const Bytes& init_bytes() {
    static const Bytes b = wire::write_message(test::sample_ike_sa_init_request()).value();
    return b;
}

void set_bytes(benchmark::State& state, std::size_t per_iteration) {
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(per_iteration));
}

void BM_CopyIkeAuth(benchmark::State& state) {
    const Bytes& in = auth_bytes();
    for (auto _ : state) {
        Bytes copy(in.begin(), in.end());
        benchmark::DoNotOptimize(copy.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, in.size());
}
BENCHMARK(BM_CopyIkeAuth);

void BM_ParseIkeAuth(benchmark::State& state) {
    const Bytes& in = auth_bytes();
    for (auto _ : state) {
        auto r = wire::parse_payload_chain(wire::PayloadType::kIdi, in);
        benchmark::DoNotOptimize(r);
    }
    set_bytes(state, in.size());
}
BENCHMARK(BM_ParseIkeAuth);

void BM_WriteIkeAuth(benchmark::State& state) {
    const auto& inner = auth_inner();
    for (auto _ : state) {
        auto r = wire::write_payload_chain(inner);
        benchmark::DoNotOptimize(r);
    }
    set_bytes(state, auth_bytes().size());
}
BENCHMARK(BM_WriteIkeAuth);

void BM_ParseIkeSaInit(benchmark::State& state) {
    const Bytes& in = init_bytes();
    for (auto _ : state) {
        auto r = wire::parse_message(in);
        benchmark::DoNotOptimize(r);
    }
    set_bytes(state, in.size());
}
BENCHMARK(BM_ParseIkeSaInit);

/// Console output as usual, plus the per-iteration time of each benchmark for the ratios.
class RatioReporter : public benchmark::ConsoleReporter {
public:
    // Colour only on a terminal, so logs stay plain text.
    RatioReporter() : ConsoleReporter(isatty(STDOUT_FILENO) != 0 ? OO_Defaults : OO_None) {}

    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& r : runs) {
            ns_[r.benchmark_name()] = r.GetAdjustedRealTime();
        }
    }
    void print_ratios() const {
        const double copy = at("BM_CopyIkeAuth");
        if (copy <= 0) {
            return;
        }
        std::printf("B-wire message bytes: ike_auth_inner=%zu ike_sa_init=%zu\n",
                    auth_bytes().size(), init_bytes().size());
        std::printf("B-wire parse_ike_auth/copy=%.1f write_ike_auth/copy=%.1f\n",
                    at("BM_ParseIkeAuth") / copy, at("BM_WriteIkeAuth") / copy);
    }

private:
    double at(const std::string& name) const {
        auto it = ns_.find(name);
        return it == ns_.end() ? 0 : it->second;
    }
    std::map<std::string, double> ns_;
};

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    reporter.print_ratios();
    benchmark::Shutdown();
    return 0;
}
