// Updown scripts (swanctl.conf's children.<child>.updown), run as strongSwan's updown plugin
// runs them: `/bin/sh -c "<updown>"` with the PLUTO_* environment (updown_env.h) when a Child
// SA comes up and when it goes down, once per pair of local and remote traffic selectors; not
// on a rekey. Unlike charon, the control thread never waits for a script: it is spawned
// (posix_spawn, its own process group), its exit is watched through a pidfd on the Asio loop,
// its output (stdout and stderr) is logged line by line up to a bound, and it is killed with
// its process group after `updown_timeout`. Scripts of one reqid run one after another, in
// order (a down never overtakes its up); others run side by side, a few at a time. Which runs
// happen when: updown_hooks.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <asio/io_context.hpp>

#include "daemon/updown_env.h"
#include "daemon/vici_command.h"

namespace ikeplex::daemon {

class UpdownRunner {
public:
    /// Scripts running at once (more wait in a queue).
    static constexpr std::size_t kMaxRunning = 8;
    /// Output logged per run; beyond, it is read and dropped.
    static constexpr std::size_t kMaxOutputBytes = 4096;

    UpdownRunner(asio::io_context& io, DaemonCounters& counters, std::chrono::milliseconds timeout);
    UpdownRunner(const UpdownRunner&) = delete;
    UpdownRunner& operator=(const UpdownRunner&) = delete;
    UpdownRunner(UpdownRunner&&) = delete;
    UpdownRunner& operator=(UpdownRunner&&) = delete;
    /// Kills the scripts still running (and their process groups) and reaps them.
    ~UpdownRunner();  // NOLINT(bugprone-exception-escape): see updown.cc

    void set_timeout(std::chrono::milliseconds t) noexcept { timeout_ = t; }
    /// Queues `command` (run by /bin/sh -c) with exactly the environment `env`; `label` names
    /// it in logs; runs with the same `key` keep their order.
    void run(std::string command, std::vector<std::string> env, std::string label,
             std::uint64_t key);
    /// Nothing running or queued.
    [[nodiscard]] bool idle() const noexcept { return running_.empty() && queue_.empty(); }

    struct Run;  // a spawned script (updown.cc)

private:
    struct Job {
        std::string command;
        std::vector<std::string> env;
        std::string label;
        std::uint64_t key{0};
    };
    void start_ready();
    void start(Job job);
    void watch_exit(const std::shared_ptr<Run>& r);
    static void read_output(const std::shared_ptr<Run>& r);
    void on_exit(const std::shared_ptr<Run>& r);
    void finish(const std::shared_ptr<Run>& r, int status);

    asio::io_context& io_;
    DaemonCounters& counters_;
    std::chrono::milliseconds timeout_;
    std::deque<Job> queue_;
    std::map<int, std::shared_ptr<Run>> running_;  ///< by pid
};

/// Runs `sa`'s script, once per pair of its traffic selectors, with PATH from the daemon.
void run_updown(UpdownRunner& runner, const UpdownSa& sa, bool up);

}  // namespace ikeplex::daemon
