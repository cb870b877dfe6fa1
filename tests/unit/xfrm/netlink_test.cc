// The netlink socket on NETLINK_XFRM, asked things that change nothing (skipped visibly where
// the socket cannot be opened): requests, acknowledgements and refusals, a dump, events, move.
// The message layer itself: tests/unit/netlink/netlink_test.cc.
#include <cerrno>
#include <utility>

#include <linux/netlink.h>
#include <linux/xfrm.h>

#include <gtest/gtest.h>

#include "kernel/xfrm/codec/codec.h"
#include "netlink/socket.h"

namespace ikeplex::kernel::xfrm {
namespace {

// Only requests that change nothing. Without CAP_NET_ADMIN the kernel answers
// every XFRM request with EPERM, which still exercises the send/receive/ack path.

class XfrmSocket : public ::testing::Test {
protected:
    void SetUp() override {
        auto s = netlink::Socket::open(NETLINK_XFRM);
        if (!s) {
            GTEST_SKIP() << "cannot open a NETLINK_XFRM socket here: " << s.error().to_string();
        }
        sock_ = std::move(*s);
    }
    netlink::Socket sock_;
};

TEST_F(XfrmSocket, OpenGivesAPortId) {
    EXPECT_GE(sock_.fd(), 0);
    EXPECT_NE(sock_.port_id(), 0U);
    EXPECT_EQ(sock_.overruns(), 0U);
    EXPECT_EQ(sock_.malformed(), 0U);
}

TEST_F(XfrmSocket, RequestForUnknownSaFailsInReplyNotInResult) {
    // An SPI from the documentation range that no SA has.
    netlink::Request get = build_get_sa(IpAddress::parse("192.0.2.77").value(), Spi(0x0badf00d));
    auto r = sock_.request(get);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_TRUE(r->error == -ESRCH || r->error == -EPERM) << r->error;
    EXPECT_TRUE(r->messages.empty());
    // The ACK flag was added by the socket.
    EXPECT_NE(get.flags() & NLM_F_ACK, 0);

    // Sequence numbers advance: a second request is matched to its own answer.
    netlink::Request again = build_get_sa(IpAddress::parse("192.0.2.78").value(), Spi(0x0badf00e));
    auto r2 = sock_.request(again);
    ASSERT_TRUE(r2) << r2.error().to_string();
    EXPECT_LT(r2->error, 0);
}

TEST_F(XfrmSocket, MalformedRequestGetsTheKernelsReason) {
    // GETSA with a body shorter than struct xfrm_usersa_id.
    netlink::Request shortreq(XFRM_MSG_GETSA, 0);
    const std::uint8_t junk[4] = {};
    shortreq.header(junk, sizeof junk);
    auto r = sock_.request(shortreq);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_TRUE(r->error == -EINVAL || r->error == -EPERM) << r->error;
}

TEST_F(XfrmSocket, DumpEnds) {
    netlink::Request d = build_dump_policy();
    auto r = sock_.dump(d);
    ASSERT_TRUE(r) << r.error().to_string();
    // Root: every policy of this namespace (possibly none) and error 0 (or -EINTR when the
    // table changed meanwhile); otherwise EPERM.
    EXPECT_TRUE(r->error == 0 || r->error == -EINTR || r->error == -EPERM) << r->error;
    for (const auto& m : r->messages) {
        auto parts = netlink::split_messages(m);
        ASSERT_TRUE(parts) << parts.error().to_string();
        ASSERT_EQ(parts->size(), 1U);
        EXPECT_EQ(parts->front().type, XFRM_MSG_NEWPOLICY);
        EXPECT_EQ(sizeof(nlmsghdr) + parts->front().payload.size(), m.size());  // nlmsg_len
    }
}

TEST_F(XfrmSocket, RefusesAnInvalidRequest) {
    netlink::Request bad = build_get_sa(IpAddress{}, Spi(1));
    ASSERT_FALSE(bad.ok());
    auto r = sock_.request(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kInvalidArgument);
}

TEST_F(XfrmSocket, TakeEventsDoesNotBlock) {
    auto ev = sock_.take_events();
    ASSERT_TRUE(ev) << ev.error().to_string();
    EXPECT_TRUE(ev->empty());  // subscribed to no group
}

TEST_F(XfrmSocket, MoveKeepsTheSocket) {
    const int fd = sock_.fd();
    const std::uint32_t pid = sock_.port_id();
    netlink::Socket moved(std::move(sock_));
    EXPECT_EQ(moved.fd(), fd);
    EXPECT_EQ(moved.port_id(), pid);
    // Checking the moved-from state: closed, refusing work.
    // NOLINTBEGIN(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
    EXPECT_EQ(sock_.fd(), -1);
    auto r = sock_.take_events();
    EXPECT_FALSE(r);
    // NOLINTEND(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
    netlink::Request get = build_get_sa(IpAddress::parse("192.0.2.77").value(), Spi(1));
    EXPECT_TRUE(moved.request(get));
}

}  // namespace
}  // namespace ikeplex::kernel::xfrm
