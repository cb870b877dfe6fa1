// ikeplex-load: an IKE load generator on our own engine. Sets up N IKE SAs against a responder
// (ikeplexd, strongSwan's charon), each with its own identity and one of many source
// addresses, then deletes them, and prints what it measured as key=value lines. See README.md.
//
//   ikeplex-load --remote 10.99.0.1 --sources 10.99.16.0/20 --addresses 256 --sas 10000
//                --psk SECRET [--rate R] [--concurrency C] [--group K] [--responder-pid PID]
//                [--delete-rate R] [--hold S] [--timeout S] [--out FILE]
#include <cstdio>
#include <fstream>
#include <memory>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "driver.h"
#include "measure.h"
#include "options.h"

namespace {

using namespace ikeplex;
using namespace ikeplex::load;

void use_stderr_log(bool verbose) {
    auto logger = std::make_shared<spdlog::logger>(
            "ikeplex-load", std::make_shared<spdlog::sinks::stderr_sink_st>());
    logger->set_pattern("%H:%M:%S.%e %v");
    spdlog::set_default_logger(logger);
    spdlog::set_level(verbose ? spdlog::level::info : spdlog::level::warn);
}

std::optional<ProcSample> responder(const Options& o, bool settle) {
    if (!o.responder_pid) {
        return std::nullopt;
    }
    auto s = settle ? settled_sample(*o.responder_pid, 1.0) : sample_process(*o.responder_pid);
    if (!s) {
        std::fprintf(stderr, "ikeplex-load: cannot read /proc/%d (responder gone?)\n",
                     static_cast<int>(*o.responder_pid));
    }
    return s;
}

bool write_report(const Options& o, const Report& r) {
    const auto lines = report_lines(r);
    for (const auto& l : lines) {
        std::printf("%s\n", l.c_str());
    }
    std::fflush(stdout);
    if (o.out_file.empty()) {
        return true;
    }
    std::ofstream f(o.out_file);
    for (const auto& l : lines) {
        f << l << '\n';
    }
    f.close();
    if (!f) {
        std::fprintf(stderr, "ikeplex-load: cannot write %s\n", o.out_file.c_str());
        return false;
    }
    return true;
}

int verdict(const Report& r, const LoadDriver& d) {
    bool ok = true;
    if (r.established != r.sas) {
        std::fprintf(stderr, "ikeplex-load: %zu of %zu IKE SAs were not established:\n",
                     r.sas - r.established, r.sas);
        for (const auto& [why, n] : d.failures()) {
            std::fprintf(stderr, "  %zu: %s\n", n, why.c_str());
        }
        ok = false;
    }
    if (r.vips && (r.vips_missing != 0 || r.vips_duplicate != 0)) {
        std::fprintf(stderr, "ikeplex-load: virtual IPs: %zu IKE SAs without one, %zu duplicates\n",
                     r.vips_missing, r.vips_duplicate);
        ok = false;
    }
    if (r.remaining != 0 || r.deleted != r.delete_targets) {
        std::fprintf(stderr,
                     "ikeplex-load: deletes incomplete: %zu of %zu deleted, %zu IKE SAs left\n",
                     r.deleted, r.delete_targets, r.remaining);
        ok = false;
    }
    return ok ? 0 : 1;
}

}  // namespace

// CLI11 reports parse errors by exception (caught in parse_options); anything else ends the
// process, as in the other apps.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
    Options o;
    if (auto code = parse_options(argc, argv, o)) {
        return *code;
    }
    use_stderr_log(o.verbose);
    auto driver = LoadDriver::create(o);
    if (!driver) {
        std::fprintf(stderr, "ikeplex-load: cannot start: %s\n",
                     driver.error().to_string().c_str());
        return 1;
    }
    Report r;
    r.r_start = responder(o, false);
    (*driver)->setup(r);
    (*driver)->count_vips(r);
    r.r_established = responder(o, false);
    (*driver)->hold(o.hold_s);
    (*driver)->remove(r);
    r.r_deleted = responder(o, true);
    const bool written = write_report(o, r);
    const int code = verdict(r, **driver);
    return written ? code : 1;
}
