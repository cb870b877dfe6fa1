#include "driver.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <set>

#include <sys/resource.h>

#include "ike/config_payload.h"

namespace ikeplex::load {

namespace {

/// Enough file descriptors for two sockets per source address and port pair.
void raise_fd_limit(std::size_t sockets) {
    rlimit l{};
    if (::getrlimit(RLIMIT_NOFILE, &l) != 0) {
        return;
    }
    const rlim_t want = static_cast<rlim_t>(sockets) + 256;
    if (l.rlim_cur < want) {
        l.rlim_cur = std::min(want, l.rlim_max);
        ::setrlimit(RLIMIT_NOFILE, &l);
    }
}

/// SIGUSR1 ends --hold early (a test that has seen what it wanted during the hold).
std::atomic<bool> g_release_hold{false};

extern "C" void release_hold(int /*signal*/) {
    g_release_hold.store(true);
}

}  // namespace

Result<std::unique_ptr<LoadDriver>> LoadDriver::create(const Options& o) {
    std::signal(SIGUSR1, release_hold);
    auto registry = crypto::Registry::create();
    if (!registry) {
        return registry.error();
    }
    raise_fd_limit(o.sources.size() * o.ports * 2);
    auto d = std::make_unique<LoadDriver>(Token{}, o, std::move(*registry));
    for (std::uint16_t i = 0; i < o.ports; ++i) {
        IKEPLEX_TRY(d->transport_.open(o.sources, static_cast<std::uint16_t>(o.ike_port + i),
                                       static_cast<std::uint16_t>(o.natt_port + i)));
    }
    std::vector<ike::PeerConfig> configs;
    configs.reserve(o.sas);
    for (std::size_t i = 0; i < o.sas; ++i) {
        configs.push_back(make_connection(o, i));
    }
    ike::IkeSaManager& m = d->host_->manager();
    m.load(std::move(configs));
    ike::Credentials creds;
    creds.psks.push_back(ike::Credentials::Psk{{}, o.psk.clone()});  // any pair of identities
    m.set_credentials(std::move(creds));
    return d;
}

LoadDriver::LoadDriver(Token /*create()*/, const Options& o,
                       std::unique_ptr<crypto::Registry> registry)
    : options_(o),
      registry_(std::move(registry)),
      transport_(io_, [this](ByteView m, const Endpoint& l,
                             const Endpoint& r) { host_->on_datagram(m, l, r); }),
      epoch_(std::chrono::steady_clock::now()),
      slots_(o.sas) {
    ike::Settings settings;
    settings.resources = std::max<std::uint32_t>(o.group, 1);
    host_ = std::make_unique<daemon::EngineHost>(io_, *registry_, settings, backend_, transport_,
                                                 std::chrono::milliseconds(0));
    host_->add_listener([this](const ike::Event& e) { on_event(e); });
}

LoadDriver::~LoadDriver() {
    transport_.close();
}

double LoadDriver::clock() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_).count();
}

bool LoadDriver::run(const std::function<bool()>& done, const std::function<double()>& pump,
                     double deadline) {
    while (!done()) {
        const double now = clock();
        if (now >= deadline) {
            return false;
        }
        const double wait = std::clamp(std::min(pump(), deadline - now), 0.0, 0.1);
        if (done()) {
            break;
        }
        if (io_.stopped()) {
            io_.restart();
        }
        io_.run_one_for(std::chrono::microseconds(static_cast<std::int64_t>(wait * 1e6) + 1));
        io_.poll();
    }
    return true;
}

void LoadDriver::initiate(std::size_t index) {
    Slot& s = slots_[index];
    s.state = State::kSetup;
    s.started = clock();
    ++in_setup_;
    const std::string name = connection_name(index);
    host_->execute([&](ike::Step& step) {
        auto r = host_->manager().initiate(name, "c", step);
        if (!r) {
            end_setup(s, r.error().to_string());
            return;
        }
        s.ike_id = *r;
        by_ike_[*r] = index;
    });
}

void LoadDriver::end_setup(Slot& s, const std::string& failure) {
    --in_setup_;
    if (failure.empty()) {
        s.state = State::kUp;
        ++established_;
        latencies_ms_.push_back((clock() - s.started) * 1000.0);
        return;
    }
    s.state = State::kFailed;
    ++failed_;
    ++failures_[failure];
}

void LoadDriver::gone(Slot& s) {
    if (s.state == State::kDeleting) {
        --deleting_;
        ++deleted_;
    }
    s.state = State::kGone;
    by_ike_.erase(s.ike_id);
}

void LoadDriver::on_event(const ike::Event& e) {
    const auto it = by_ike_.find(e.ike_id);
    if (it == by_ike_.end()) {
        return;
    }
    Slot& s = slots_[it->second];
    switch (e.kind) {
        case ike::EventKind::kChildUp:
            if (s.state == State::kSetup && ++s.children_up >= options_.children_per_sa()) {
                end_setup(s, {});
            }
            break;
        case ike::EventKind::kChildFailed:
            if (s.state == State::kSetup) {
                end_setup(s, "child failed: " + e.reason);
            }
            break;
        case ike::EventKind::kIkeDown:
        case ike::EventKind::kIkeFailed:
            if (s.state == State::kSetup) {
                end_setup(s, "IKE SA failed: " + e.reason);
            }
            gone(s);
            break;
        case ike::EventKind::kIkeRekeyed: {
            const std::size_t index = it->second;
            by_ike_.erase(it);
            s.ike_id = e.new_id;
            by_ike_[e.new_id] = index;
            break;
        }
        default:
            break;
    }
}

void LoadDriver::setup(Report& r) {
    TokenBucket bucket(options_.rate, std::max(1.0, options_.rate / 100));
    std::size_t next = 0;
    const double start = clock();
    const std::uint64_t cpu0 = self_cpu_us();
    const std::uint64_t retransmits0 = host_->manager().counters().retransmits;
    const auto done = [&] { return next == options_.sas && in_setup_ == 0; };
    const auto pump = [&] {
        while (next < options_.sas && in_setup_ < options_.concurrency) {
            const double wait = bucket.wait(clock());
            if (wait > 0) {
                return wait;
            }
            bucket.take(clock());
            initiate(next++);
        }
        return 0.1;
    };
    run(done, pump, start + options_.timeout_s);
    r.setup_s = clock() - start;
    r.setup_cpu_us = self_cpu_us() - cpu0;
    for (Slot& s : slots_) {
        if (s.state == State::kSetup || s.state == State::kIdle) {
            if (s.state == State::kSetup) {
                end_setup(s, "timed out");
            } else {
                ++failed_;
                ++failures_["not started (timed out)"];
            }
        }
    }
    r.sas = options_.sas;
    r.group = options_.group;
    r.established = established_;
    r.failed = failed_;
    r.retransmits = host_->manager().counters().retransmits - retransmits0;
    r.setup_ms = percentiles(latencies_ms_);
}

void LoadDriver::count_vips(Report& r) const {
    r.vips = options_.vips;
    if (!options_.vips) {
        return;
    }
    std::set<IpAddress> seen;
    for (const Slot& s : slots_) {
        if (s.state != State::kUp) {
            continue;
        }
        const ike::IkeSa* sa = host_->manager().sa(s.ike_id);
        const ike::VirtualIps* v = sa != nullptr ? ike::virtual_ips(*sa) : nullptr;
        if (v == nullptr || v->local.empty()) {
            ++r.vips_missing;
            continue;
        }
        ++r.vips_assigned;
        for (const IpAddress& a : v->local) {
            if (!seen.insert(a).second) {
                ++r.vips_duplicate;
            }
        }
    }
}

void LoadDriver::hold(double seconds) {
    if (seconds <= 0) {
        return;
    }
    run([] { return g_release_hold.load(); }, [] { return 0.1; }, clock() + seconds);
}

void LoadDriver::terminate(std::size_t index) {
    Slot& s = slots_[index];
    s.state = State::kDeleting;
    ++deleting_;
    host_->execute([&](ike::Step& step) {
        if (!host_->manager().terminate_ike(s.ike_id, step)) {
            gone(s);  // already gone
        }
    });
}

void LoadDriver::remove(Report& r) {
    std::vector<std::size_t> targets;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        const Slot& s = slots_[i];
        if (s.state != State::kGone && s.ike_id != 0 && host_->manager().sa(s.ike_id) != nullptr) {
            targets.push_back(i);
        }
    }
    TokenBucket bucket(options_.delete_rate, std::max(1.0, options_.delete_rate / 100));
    std::size_t next = 0;
    const double start = clock();
    const std::uint64_t cpu0 = self_cpu_us();
    const std::uint64_t retransmits0 = host_->manager().counters().retransmits;
    const auto done = [&] {
        return next == targets.size() && deleting_ == 0 && host_->manager().sas().empty();
    };
    const auto pump = [&] {
        while (next < targets.size() && deleting_ < options_.concurrency) {
            const double wait = bucket.wait(clock());
            if (wait > 0) {
                return wait;
            }
            bucket.take(clock());
            terminate(targets[next++]);
        }
        return 0.1;
    };
    run(done, pump, start + options_.timeout_s);
    r.delete_s = clock() - start;
    r.delete_cpu_us = self_cpu_us() - cpu0;
    r.delete_targets = targets.size();
    r.deleted = deleted_;
    r.remaining = host_->manager().sas().size();
    r.delete_retransmits = host_->manager().counters().retransmits - retransmits0;
}

}  // namespace ikeplex::load
