// The load itself: our engine (IkeSaManager in an EngineHost, UDP sockets on every source
// address, backend "none") as initiator of N IKE SAs, paced by a token bucket and a limit of
// SAs in set-up at once, then their deletes. One thread: the phases run the Asio loop until
// their work is done or their deadline passes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <asio/io_context.hpp>

#include "crypto/registry.h"
#include "daemon/engine_host.h"
#include "daemon/udp_transport.h"
#include "kernel/none_backend.h"
#include "measure.h"
#include "options.h"

namespace ikeplex::load {

class LoadDriver {
    struct Token {
        explicit Token() = default;
    };

public:
    /// Opens the sockets and loads one connection per IKE SA.
    static Result<std::unique_ptr<LoadDriver>> create(const Options& o);
    LoadDriver(Token /*create()*/, const Options& o, std::unique_ptr<crypto::Registry> registry);
    LoadDriver(const LoadDriver&) = delete;
    LoadDriver& operator=(const LoadDriver&) = delete;
    LoadDriver(LoadDriver&&) = delete;
    LoadDriver& operator=(LoadDriver&&) = delete;
    ~LoadDriver();

    /// Sets up every IKE SA (until all are established or failed, or the timeout).
    void setup(Report& r);
    /// --vips: the virtual IPs the established IKE SAs got (missing and duplicate ones).
    void count_vips(Report& r) const;
    /// Keeps the SAs (answering the responder) for `seconds`.
    void hold(double seconds);
    /// Deletes every IKE SA the engine holds and waits until it holds none (or the timeout).
    void remove(Report& r);

    /// Why SAs failed, with counts ("timed out", "AUTHENTICATION_FAILED", ...).
    [[nodiscard]] const std::map<std::string, std::size_t>& failures() const noexcept {
        return failures_;
    }

private:
    enum class State : std::uint8_t { kIdle, kSetup, kUp, kFailed, kDeleting, kGone };
    struct Slot {
        std::uint32_t ike_id{0};
        State state{State::kIdle};
        std::size_t children_up{0};
        double started{0};
    };

    [[nodiscard]] double clock() const;
    /// Runs the loop until `done()` or `deadline`; `pump()` starts work and says how long the
    /// loop may then wait. False at the deadline.
    bool run(const std::function<bool()>& done, const std::function<double()>& pump,
             double deadline);
    void initiate(std::size_t index);
    void terminate(std::size_t index);
    void on_event(const ike::Event& e);
    void end_setup(Slot& s, const std::string& failure);
    void gone(Slot& s);

    const Options& options_;
    std::unique_ptr<crypto::Registry> registry_;
    asio::io_context io_;
    kernel::NoneBackend backend_;
    daemon::UdpTransport transport_;
    std::unique_ptr<daemon::EngineHost> host_;
    std::chrono::steady_clock::time_point epoch_;

    std::vector<Slot> slots_;
    std::unordered_map<std::uint32_t, std::size_t> by_ike_;
    std::vector<double> latencies_ms_;
    std::map<std::string, std::size_t> failures_;
    std::size_t in_setup_{0};
    std::size_t established_{0};
    std::size_t failed_{0};
    std::size_t deleting_{0};
    std::size_t deleted_{0};
};

}  // namespace ikeplex::load
