#include "daemon/updown.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include <sys/syscall.h>
#include <sys/wait.h>

#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>  // NOLINT(modernize-deprecated-headers): kill(), sigset_t
#include <spawn.h>
#include <unistd.h>

#include "util/log.h"

namespace ikeplex::daemon {

using log::Subsystem;

struct UpdownRunner::Run {
    explicit Run(asio::io_context& io) : out(io), exit(io), timer(io), poll(io) {}
    int pid{-1};
    std::string label;
    std::uint64_t key{0};
    asio::posix::stream_descriptor out;   ///< the read end of the script's stdout and stderr
    asio::posix::stream_descriptor exit;  ///< a pidfd: readable once the script has exited
    asio::steady_timer timer;             ///< the timeout
    asio::steady_timer poll;              ///< waitpid() polling where there are no pidfds
    std::array<char, 512> buf{};
    std::string line;
    std::size_t logged{0};
    std::size_t dropped{0};
    bool killed{false};
    bool done{false};

    /// Logs complete lines of output, up to kMaxOutputBytes in all.
    void take(const char* data, std::size_t n, bool last) {
        for (std::size_t i = 0; i < n; ++i) {
            if (data[i] == '\n') {
                emit();
            } else {
                line.push_back(data[i]);
            }
        }
        if (last && !line.empty()) {
            emit();
        }
    }
    void emit() {
        if (logged + line.size() <= kMaxOutputBytes) {
            log::info(Subsystem::kChd, "updown: {}", line);
            logged += line.size();
        } else {
            dropped += line.size();
        }
        line.clear();
    }
};

namespace {

/// Starts `/bin/sh -c command` with exactly `env`, stdin from /dev/null, stdout and stderr into
/// `out`, in a process group of its own; returns its pid, or an errno value negated.
pid_t spawn_shell(std::string& command, std::vector<std::string>& env, int out) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out, 1);
    posix_spawn_file_actions_adddup2(&actions, out, 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // No blocked signals, and the daemon's handled or ignored signals back at their defaults.
    sigset_t none;
    sigemptyset(&none);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int s : {SIGPIPE, SIGCHLD, SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2}) {
        sigaddset(&defaults, s);
    }
    posix_spawnattr_setflags(
            &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    std::vector<char*> envp;
    envp.reserve(env.size() + 1);
    for (std::string& e : env) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    std::string sh = "/bin/sh";
    std::string dash_c = "-c";
    std::array<char*, 4> argv{sh.data(), dash_c.data(), command.data(), nullptr};
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, sh.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc == 0 ? pid : -rc;
}

}  // namespace

UpdownRunner::UpdownRunner(asio::io_context& io, DaemonCounters& counters,
                           std::chrono::milliseconds timeout)
    : io_(io), counters_(counters), timeout_(timeout) {}

// asio's cancel() throws only if the reactor cannot deregister, which does not happen here
// (as in engine_host.cc).
UpdownRunner::~UpdownRunner() {  // NOLINT(bugprone-exception-escape)
    for (auto& [pid, r] : running_) {
        r->done = true;
        ::kill(-pid, SIGKILL);
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        asio::error_code ec;
        r->timer.cancel();
        r->poll.cancel();
        r->out.close(ec);
        r->exit.close(ec);
    }
}

void UpdownRunner::run(std::string command, std::vector<std::string> env, std::string label,
                       std::uint64_t key) {
    queue_.push_back(Job{std::move(command), std::move(env), std::move(label), key});
    start_ready();
}

void UpdownRunner::start_ready() {
    std::set<std::uint64_t> busy;
    for (const auto& [pid, r] : running_) {
        busy.insert(r->key);
    }
    for (auto it = queue_.begin(); it != queue_.end() && running_.size() < kMaxRunning;) {
        if (busy.contains(it->key)) {
            ++it;  // after the one of its key that runs (and before any later one of it)
            continue;
        }
        busy.insert(it->key);
        Job job = std::move(*it);
        it = queue_.erase(it);
        start(std::move(job));
        // start() may have finished a run that failed to spawn: the queue is still valid
        // (erase above), but running_ changed; the loop condition reads it again.
    }
}

void UpdownRunner::start(Job job) {
    ++counters_.updown_runs;
    std::array<int, 2> fds{-1, -1};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
        ++counters_.updown_failures;
        log::error(Subsystem::kChd, "updown {}: no pipe: {}", job.label, std::strerror(errno));
        return;
    }
    const pid_t pid = spawn_shell(job.command, job.env, fds[1]);
    ::close(fds[1]);
    if (pid < 0) {
        ::close(fds[0]);
        ++counters_.updown_failures;
        log::error(Subsystem::kChd, "updown {}: cannot run /bin/sh: {}", job.label,
                   std::strerror(-pid));
        return;
    }
    auto r = std::make_shared<Run>(io_);
    r->pid = pid;
    r->label = std::move(job.label);
    r->key = job.key;
    asio::error_code ec;
    r->out.assign(fds[0], ec);
    if (ec) {
        ::close(fds[0]);
    }
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): the syscall has no libc wrapper here
    const auto pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) {
        r->exit.assign(pidfd, ec);
        if (ec) {
            ::close(pidfd);
        }
    }
    running_[pid] = r;
    log::debug(Subsystem::kChd, "updown {}: started (pid {})", r->label, pid);
    r->timer.expires_after(timeout_);
    r->timer.async_wait([r, t = timeout_](const asio::error_code& e) {
        if (e || r->done) {
            return;
        }
        r->killed = true;
        ::kill(-r->pid, SIGKILL);
        log::warn(Subsystem::kChd, "updown {}: still running after {} ms, killed", r->label,
                  t.count());
    });
    if (r->out.is_open()) {
        read_output(r);
    }
    watch_exit(r);
}

void UpdownRunner::read_output(const std::shared_ptr<Run>& r) {
    // Needs nothing of the runner: r alone keeps the reads going.
    r->out.async_read_some(asio::buffer(r->buf), [r](const asio::error_code& ec, std::size_t n) {
        if (r->done) {
            return;
        }
        r->take(r->buf.data(), n, static_cast<bool>(ec));
        if (ec) {
            asio::error_code ignored;
            r->out.close(ignored);  // end of output (or an error): the exit finishes the run
            return;
        }
        read_output(r);
    });
}

void UpdownRunner::watch_exit(const std::shared_ptr<Run>& r) {
    if (r->exit.is_open()) {
        r->exit.async_wait(asio::posix::stream_descriptor::wait_read,
                           [this, r](const asio::error_code& ec) {
                               if (!ec && !r->done) {
                                   on_exit(r);
                               }
                           });
        return;
    }
    r->poll.expires_after(std::chrono::milliseconds(50));
    r->poll.async_wait([this, r](const asio::error_code& ec) {
        if (!ec && !r->done) {
            on_exit(r);
        }
    });
}

void UpdownRunner::on_exit(const std::shared_ptr<Run>& r) {
    int status = 0;
    const pid_t got = ::waitpid(r->pid, &status, WNOHANG);
    if (got == 0) {
        watch_exit(r);  // not yet (only without a pidfd)
        return;
    }
    finish(r, got == r->pid ? status : -1);
}

void UpdownRunner::finish(const std::shared_ptr<Run>& r, int status) {
    r->done = true;
    r->timer.cancel();
    r->poll.cancel();
    asio::error_code ec;
    if (r->out.is_open()) {
        // What the script wrote before it exited (a child it left behind may hold the pipe
        // open: it is not waited for).
        r->out.non_blocking(true, ec);
        while (!ec) {
            const std::size_t n = r->out.read_some(asio::buffer(r->buf), ec);
            r->take(r->buf.data(), n, static_cast<bool>(ec));
        }
        r->out.close(ec);
    }
    r->take(nullptr, 0, true);
    r->exit.close(ec);
    if (r->dropped > 0) {
        log::info(Subsystem::kChd, "updown {}: {} more bytes of output not logged", r->label,
                  r->dropped);
    }
    if (status == -1) {
        ++counters_.updown_failures;
        log::warn(Subsystem::kChd, "updown {}: exit status unknown", r->label);
    } else if (WIFSIGNALED(status)) {
        ++counters_.updown_failures;
        if (r->killed) {
            ++counters_.updown_timeouts;
        }
        log::warn(Subsystem::kChd, "updown {}: killed by signal {}{}", r->label, WTERMSIG(status),
                  r->killed ? " (timeout)" : "");
    } else if (WEXITSTATUS(status) != 0) {
        ++counters_.updown_failures;
        log::warn(Subsystem::kChd, "updown {}: exit status {}", r->label, WEXITSTATUS(status));
    } else {
        log::debug(Subsystem::kChd, "updown {}: done", r->label);
    }
    running_.erase(r->pid);
    start_ready();
}

void run_updown(UpdownRunner& runner, const UpdownSa& sa, bool up) {
    const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): control thread
    const std::string label = fmt::format("{} {}{{{}}}", up ? "up" : "down", sa.child, sa.child_id);
    for (std::vector<std::string>& env :
         updown_environments(sa, up, path != nullptr ? path : "/usr/sbin:/usr/bin:/sbin:/bin")) {
        runner.run(sa.command, std::move(env), label, sa.reqid);
    }
}

}  // namespace ikeplex::daemon
