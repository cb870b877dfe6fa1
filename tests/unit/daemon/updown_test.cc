// Updown scripts (daemon/updown.h, updown_env.h): strongSwan's PLUTO_* environment from a
// Child SA's data, and the runner: real /bin/sh processes on an Asio loop that never waits
// for them (output, exit status, a timeout that kills, order per key).
#include "daemon/updown.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <asio/steady_timer.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace ikeplex::daemon {
namespace {

using ::testing::Not;

ike::TrafficSelector ts(std::string_view text) {
    auto t = ike::TrafficSelector::parse(text);
    EXPECT_TRUE(t) << text;
    return *t;
}

std::map<std::string, std::string> as_map(const std::vector<std::string>& env) {
    std::map<std::string, std::string> m;
    for (const std::string& e : env) {
        const auto eq = e.find('=');
        m[e.substr(0, eq)] = e.substr(eq + 1);
    }
    return m;
}

UpdownSa tunnel() {
    UpdownSa u;
    u.command = "/bin/true";
    u.child = "net";
    u.ike_id = 7;
    u.child_id = 9;
    u.reqid = 3;
    u.me = Endpoint{*IpAddress::parse("10.99.0.1"), 4500};
    u.peer = Endpoint{*IpAddress::parse("10.99.0.2"), 4501};
    u.my_id = "moon.example";
    u.peer_id = "10.99.0.2";
    u.udp_encap = true;
    u.spi_in = 0xc0ffee01;
    u.spi_out = 0x0000abcd;
    u.local_ts = {ts("10.99.1.0/24")};
    u.remote_ts = {ts("10.99.2.0/24"), ts("10.99.3.0-10.99.3.9[tcp/1024-2048]")};
    u.interface = "eth0";
    return u;
}

TEST(UpdownEnv, TunnelModeWithSubnetsAsStrongSwan) {
    const auto envs = updown_environments(tunnel(), true, "/bin");
    ASSERT_EQ(envs.size(), 2U) << "one run per pair of local and remote selectors";
    const auto e = as_map(envs[0]);
    EXPECT_EQ(e.at("PATH"), "/bin");
    EXPECT_EQ(e.at("PLUTO_VERSION"), "1.1");
    EXPECT_EQ(e.at("PLUTO_VERB"), "up-client");
    EXPECT_EQ(e.at("PLUTO_CONNECTION"), "net");
    EXPECT_EQ(e.at("PLUTO_INTERFACE"), "eth0");
    EXPECT_EQ(e.at("PLUTO_REQID"), "3");
    EXPECT_EQ(e.at("PLUTO_PROTO"), "esp");
    EXPECT_EQ(e.at("PLUTO_UNIQUEID"), "7");
    EXPECT_EQ(e.at("PLUTO_ME"), "10.99.0.1");
    EXPECT_EQ(e.at("PLUTO_MY_ID"), "moon.example");
    EXPECT_EQ(e.at("PLUTO_MY_CLIENT"), "10.99.1.0/24");
    EXPECT_EQ(e.at("PLUTO_MY_PORT"), "0");
    EXPECT_EQ(e.at("PLUTO_MY_PROTOCOL"), "0");
    EXPECT_EQ(e.at("PLUTO_PEER"), "10.99.0.2");
    EXPECT_EQ(e.at("PLUTO_PEER_ID"), "10.99.0.2");
    EXPECT_EQ(e.at("PLUTO_PEER_CLIENT"), "10.99.2.0/24");
    EXPECT_EQ(e.at("PLUTO_PEER_PORT"), "0");
    EXPECT_EQ(e.at("PLUTO_PEER_PROTOCOL"), "0");
    EXPECT_EQ(e.at("PLUTO_UDP_ENC"), "4501");
    EXPECT_EQ(e.at("PLUTO_INBOUND_SPI"), "0xc0ffee01");
    EXPECT_EQ(e.at("PLUTO_OUTBOUND_SPI"), "0x0000abcd");
    EXPECT_FALSE(e.contains("PLUTO_HOST_ACCESS"));
    EXPECT_FALSE(e.contains("PLUTO_IPCOMP"));
    // A range is widened to the smallest subnet holding it; a port range is "from:to".
    const auto r = as_map(envs[1]);
    EXPECT_EQ(r.at("PLUTO_PEER_CLIENT"), "10.99.3.0/28");
    EXPECT_EQ(r.at("PLUTO_PEER_PORT"), "1024:2048");
    EXPECT_EQ(r.at("PLUTO_PEER_PROTOCOL"), "6");
    EXPECT_EQ(as_map(updown_environments(tunnel(), false, "/bin")[0]).at("PLUTO_VERB"),
              "down-client");
}

TEST(UpdownEnv, HostVerbsIpv6AndHostaccess) {
    UpdownSa u = tunnel();
    u.udp_encap = false;
    u.hostaccess = true;
    u.local_ts = {ts("10.99.0.1/32")};
    u.remote_ts = {ts("10.99.0.2/32")};
    auto e = as_map(updown_environments(u, false, "/bin").at(0));
    EXPECT_EQ(e.at("PLUTO_VERB"), "down-host");
    EXPECT_EQ(e.at("PLUTO_MY_CLIENT"), "10.99.0.1/32");
    EXPECT_EQ(e.at("PLUTO_HOST_ACCESS"), "1");
    EXPECT_FALSE(e.contains("PLUTO_UDP_ENC"));
    u.me = Endpoint{*IpAddress::parse("fd00::1"), 500};
    u.local_ts = {ts("fd00::1/128")};
    u.remote_ts = {ts("fd00:1::/64")};
    e = as_map(updown_environments(u, true, "/bin").at(0));
    EXPECT_EQ(e.at("PLUTO_VERB"), "up-host-v6");
    u.local_ts = {ts("fd00:2::/64")};
    e = as_map(updown_environments(u, true, "/bin").at(0));
    EXPECT_EQ(e.at("PLUTO_VERB"), "up-client-v6");
    EXPECT_EQ(e.at("PLUTO_MY_CLIENT"), "fd00:2::/64");
    EXPECT_EQ(subnet_of(ts("0.0.0.0/0")), "0.0.0.0/0");
}

class Runner : public ::testing::Test {
protected:
    void SetUp() override {
        dir = std::filesystem::temp_directory_path() /
              ("ikeplex-updown-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir);
    }
    void TearDown() override { std::filesystem::remove_all(dir); }

    /// Runs the loop until the runner is idle (at most `limit`); counts the ticks of a 10 ms
    /// timer meanwhile, which prove the loop never waited for a script.
    bool run_until_idle(UpdownRunner& r, std::chrono::milliseconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        asio::steady_timer tick(io);
        std::function<void()> arm = [&] {
            tick.expires_after(std::chrono::milliseconds(10));
            tick.async_wait([&](const asio::error_code& ec) {
                if (!ec) {
                    ++ticks;
                    arm();
                }
            });
        };
        arm();
        while (!r.idle() && std::chrono::steady_clock::now() < deadline) {
            io.run_one_for(std::chrono::milliseconds(20));
        }
        tick.cancel();
        io.poll();
        io.restart();
        return r.idle();
    }

    std::string read(const std::string& name) const {
        std::ifstream in(dir / name);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

    asio::io_context io;
    DaemonCounters counters;
    std::filesystem::path dir;
    int ticks{0};
};

TEST_F(Runner, ScriptGetsExactlyTheEnvironment) {
    UpdownRunner r(io, counters, std::chrono::seconds(10));
    const std::string out = (dir / "env").string();
    r.run("env > " + out + "; echo to-stderr >&2",
          {"PATH=/usr/bin:/bin", "PLUTO_VERB=up-client", "PLUTO_ME=10.99.0.1"}, "up net{1}", 1);
    ASSERT_TRUE(run_until_idle(r, std::chrono::seconds(10)));
    const std::string env = read("env");
    EXPECT_THAT(env, ::testing::HasSubstr("PLUTO_VERB=up-client\n"));
    EXPECT_THAT(env, ::testing::HasSubstr("PLUTO_ME=10.99.0.1\n"));
    EXPECT_THAT(env, Not(::testing::HasSubstr("HOME=")));
    EXPECT_EQ(counters.updown_runs, 1U);
    EXPECT_EQ(counters.updown_failures, 0U);
}

TEST_F(Runner, FailuresAreCountedAndSameKeyRunsInOrder) {
    UpdownRunner r(io, counters, std::chrono::seconds(10));
    const std::string out = (dir / "order").string();
    r.run("sleep 0.3; printf a >> " + out, {"PATH=/usr/bin:/bin"}, "up", 5);
    r.run("printf b >> " + out + "; exit 3", {"PATH=/usr/bin:/bin"}, "down", 5);
    r.run("exec /nonexistent/script", {"PATH=/usr/bin:/bin"}, "other", 6);
    ASSERT_TRUE(run_until_idle(r, std::chrono::seconds(10)));
    EXPECT_EQ(read("order"), "ab") << "a down never overtakes its up";
    EXPECT_EQ(counters.updown_runs, 3U);
    EXPECT_EQ(counters.updown_failures, 2U);
    EXPECT_EQ(counters.updown_timeouts, 0U);
}

TEST_F(Runner, HangingScriptIsKilledAtTheTimeoutWithoutBlockingTheLoop) {
    UpdownRunner r(io, counters, std::chrono::milliseconds(300));
    const auto t0 = std::chrono::steady_clock::now();
    r.run("sleep 600 & sleep 600", {"PATH=/usr/bin:/bin"}, "up hang{1}", 1);
    ASSERT_TRUE(run_until_idle(r, std::chrono::seconds(10)));
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(took, std::chrono::milliseconds(250));
    EXPECT_LT(took, std::chrono::seconds(5));
    EXPECT_GE(ticks, 10) << "the loop kept running while the script hung";
    EXPECT_EQ(counters.updown_timeouts, 1U);
    EXPECT_EQ(counters.updown_failures, 1U);
}

}  // namespace
}  // namespace ikeplex::daemon
