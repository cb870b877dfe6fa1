// Netlink messages without privileges: request layout and its size limit, splitting datagrams
// and attributes with broken lengths, NLMSG_ERROR decoding (capped or not, with or without the
// extended-ack text); and the socket on NETLINK_ROUTE, asked things that change nothing. (The
// same socket on NETLINK_XFRM: tests/unit/xfrm/netlink_test.cc.) XFRM message types serve as
// sample types: to this layer a type is a number.
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/xfrm.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "netlink/message.h"
#include "netlink/socket.h"

namespace ikeplex::netlink {
namespace {

nlmsghdr header_of(ByteView b) {
    nlmsghdr h{};
    EXPECT_GE(b.size(), sizeof h);
    if (b.size() >= sizeof h) {
        std::memcpy(&h, b.data(), sizeof h);
    }
    return h;
}

/// A netlink message: header with `len` (0: the real length), then `payload`, padded to 4.
Bytes message(std::uint16_t type, std::uint16_t flags, std::uint32_t seq, const Bytes& payload,
              std::uint32_t len = 0) {
    nlmsghdr h{};
    h.nlmsg_len = len != 0 ? len : static_cast<std::uint32_t>(sizeof h + payload.size());
    h.nlmsg_type = type;
    h.nlmsg_flags = flags;
    h.nlmsg_seq = seq;
    h.nlmsg_pid = 4242;
    Bytes out(sizeof h);
    std::memcpy(out.data(), &h, sizeof h);
    out.insert(out.end(), payload.begin(), payload.end());
    out.resize((out.size() + 3) & ~std::size_t{3}, 0);
    return out;
}

Bytes attribute(std::uint16_t type, const Bytes& data) {
    nlattr a{};
    a.nla_len = static_cast<std::uint16_t>(sizeof a + data.size());
    a.nla_type = type;
    Bytes out(sizeof a);
    std::memcpy(out.data(), &a, sizeof a);
    out.insert(out.end(), data.begin(), data.end());
    out.resize((out.size() + 3) & ~std::size_t{3}, 0);
    return out;
}

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

Bytes text(const char* s) {
    Bytes b(s, s + std::strlen(s));
    b.push_back(0);
    return b;
}

// ---------------------------------------------------------------------------------------------
// Request

TEST(NetlinkRequest, LayoutAndFinish) {
    Request r(XFRM_MSG_GETSA, NLM_F_DUMP);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.type(), XFRM_MSG_GETSA);
    EXPECT_EQ(r.flags(), NLM_F_REQUEST | NLM_F_DUMP);
    EXPECT_TRUE(r.body().empty());

    const std::uint8_t three[3] = {1, 2, 3};
    r.header(three, sizeof three);  // padded to 4
    r.attr_u8(7, 0xab);             // nla_len 5, padded to 8
    r.attr_u32(8, 0x01020304);
    const std::uint8_t none = 0;
    r.attr(9, &none, 0);  // empty attribute: nla_len 4
    const Bytes expect_body = cat({Bytes{1, 2, 3, 0}, attribute(7, Bytes{0xab}),
                                   attribute(8, Bytes{4, 3, 2, 1}), attribute(9, Bytes{})});
    ASSERT_EQ(Bytes(r.body().begin(), r.body().end()), expect_body);
    EXPECT_EQ(r.body()[5], 0);  // nla_len high byte of the u8 attribute
    EXPECT_EQ(r.body()[4], 5);  // ... and its low byte

    r.add_flags(NLM_F_ACK);
    EXPECT_EQ(r.flags(), NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK);
    const ByteView whole = r.finish(77, 1234);
    const nlmsghdr h = header_of(whole);
    EXPECT_EQ(h.nlmsg_len, whole.size());
    EXPECT_EQ(h.nlmsg_len, sizeof(nlmsghdr) + expect_body.size());
    EXPECT_EQ(h.nlmsg_seq, 77U);
    EXPECT_EQ(h.nlmsg_pid, 1234U);
    EXPECT_EQ(h.nlmsg_type, XFRM_MSG_GETSA);
}

TEST(NetlinkRequest, NeverGrowsPastItsLimit) {
    Request r(XFRM_MSG_NEWSA, 0);
    const Bytes big(Request::kMaxRequest - sizeof(nlmsghdr) - 8, 0x55);
    r.attr(1, big);
    EXPECT_TRUE(r.ok());
    const std::size_t before = r.body().size();
    r.attr_u32(2, 1);  // 8 more bytes: one too many
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.body().size(), before);  // the append was dropped
    r.attr_u8(3, 1);                     // still refused: the request stays failed
    EXPECT_EQ(r.body().size(), before);

    Request exact(XFRM_MSG_NEWSA, 0);
    exact.attr(1, Bytes(Request::kMaxRequest - sizeof(nlmsghdr) - 4, 0));
    EXPECT_TRUE(exact.ok());
    EXPECT_EQ(exact.finish(1).size(), Request::kMaxRequest);

    Request hdr(XFRM_MSG_NEWSA, 0);
    hdr.header(big.data(), Request::kMaxRequest);
    EXPECT_FALSE(hdr.ok());

    Request bad(XFRM_MSG_NEWSA, 0);
    bad.invalidate();
    EXPECT_FALSE(bad.ok());
}

TEST(NetlinkRequest, Move) {
    Request a(XFRM_MSG_NEWSA, 0);
    a.attr_u32(1, 5);
    const Bytes body(a.body().begin(), a.body().end());
    Request b(std::move(a));
    EXPECT_TRUE(b.ok());
    EXPECT_EQ(Bytes(b.body().begin(), b.body().end()), body);
    // The moved-from state is defined: empty and refused.
    // NOLINTBEGIN(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
    EXPECT_FALSE(a.ok());
    EXPECT_TRUE(a.body().empty());
    EXPECT_TRUE(a.finish(1).empty());
    a.attr_u32(1, 1);  // no effect, no allocation
    EXPECT_TRUE(a.body().empty());
    // NOLINTEND(bugprone-use-after-move,clang-analyzer-cplusplus.Move)

    Request c(XFRM_MSG_DELSA, 0);
    c = std::move(b);
    EXPECT_EQ(c.type(), XFRM_MSG_NEWSA);
    EXPECT_EQ(Bytes(c.body().begin(), c.body().end()), body);
}

// ---------------------------------------------------------------------------------------------
// split_messages / parse_attrs / find_attr

TEST(SplitMessages, SeveralMessages) {
    const Bytes d = cat({message(XFRM_MSG_NEWSA, NLM_F_MULTI, 5, Bytes{1, 2, 3}),
                         message(NLMSG_DONE, NLM_F_MULTI, 5, Bytes{0, 0, 0, 0})});
    auto m = split_messages(d);
    ASSERT_TRUE(m) << m.error().to_string();
    ASSERT_EQ(m->size(), 2U);
    EXPECT_EQ((*m)[0].type, XFRM_MSG_NEWSA);
    EXPECT_EQ((*m)[0].flags, NLM_F_MULTI);
    EXPECT_EQ((*m)[0].seq, 5U);
    EXPECT_EQ((*m)[0].pid, 4242U);
    EXPECT_EQ(Bytes((*m)[0].payload.begin(), (*m)[0].payload.end()), (Bytes{1, 2, 3}));
    EXPECT_EQ((*m)[1].type, NLMSG_DONE);
    EXPECT_EQ((*m)[1].payload.size(), 4U);

    auto empty = split_messages({});
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->empty());

    // The last message unpadded, exactly at the datagram's end.
    Bytes unpadded = message(XFRM_MSG_NEWSA, 0, 1, Bytes{9});
    unpadded.resize(sizeof(nlmsghdr) + 1);
    auto one = split_messages(unpadded);
    ASSERT_TRUE(one);
    ASSERT_EQ(one->size(), 1U);
    EXPECT_EQ((*one)[0].payload.size(), 1U);
}

TEST(SplitMessages, BoundsErrors) {
    const Bytes good = message(XFRM_MSG_NEWSA, 0, 1, Bytes(8, 0));
    // Truncated header: a second message of which only 8 bytes arrived.
    Bytes cut = cat({good, Bytes(8, 0x11)});
    EXPECT_EQ(split_messages(cut).error().code, Errc::kTruncated);
    EXPECT_EQ(split_messages(ByteView(good).first(10)).error().code, Errc::kTruncated);
    // nlmsg_len below the header size (would loop forever if trusted).
    EXPECT_EQ(split_messages(message(XFRM_MSG_NEWSA, 0, 1, Bytes(8, 0), 15)).error().code,
              Errc::kBadLength);
    EXPECT_EQ(split_messages(message(XFRM_MSG_NEWSA, 0, 1, Bytes(8, 0), 0xffffffff)).error().code,
              Errc::kBadLength);
    // nlmsg_len past the end.
    EXPECT_EQ(split_messages(message(XFRM_MSG_NEWSA, 0, 1, Bytes(8, 0), 25)).error().code,
              Errc::kBadLength);
}

TEST(ParseAttrs, WalkAndMask) {
    const Bytes fixed{0xaa, 0xbb, 0xcc};  // a 3-byte header padded to 4
    Bytes p = cat({fixed, Bytes{0}, attribute(1, Bytes{1, 2}),
                   attribute(static_cast<std::uint16_t>(2 | NLA_F_NESTED), Bytes{3, 4, 5, 6}),
                   attribute(3, Bytes{})});
    auto a = parse_attrs(p, 3);
    ASSERT_TRUE(a) << a.error().to_string();
    ASSERT_EQ(a->size(), 3U);
    EXPECT_EQ((*a)[0].type, 1);
    EXPECT_EQ((*a)[0].data.size(), 2U);
    EXPECT_EQ((*a)[1].type, 2);  // NLA_F_NESTED removed
    EXPECT_EQ((*a)[1].data.size(), 4U);
    EXPECT_TRUE((*a)[2].data.empty());
    ASSERT_TRUE(find_attr(*a, 2));
    EXPECT_EQ((*find_attr(*a, 2))[0], 3);
    EXPECT_FALSE(find_attr(*a, 4));

    // Only the fixed header: no attributes.
    auto none = parse_attrs(fixed, 3);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

TEST(ParseAttrs, BoundsErrors) {
    EXPECT_EQ(parse_attrs(Bytes(10, 0), 11).error().code, Errc::kTruncated);
    // nla_len below 4.
    Bytes small = attribute(1, Bytes{1, 2, 3, 4});
    small[0] = 3;
    EXPECT_EQ(parse_attrs(small, 0).error().code, Errc::kBadLength);
    small[0] = 0;
    EXPECT_EQ(parse_attrs(small, 0).error().code, Errc::kBadLength);
    // Past the end.
    Bytes past = attribute(1, Bytes{1, 2, 3, 4});
    past[0] = 9;
    EXPECT_EQ(parse_attrs(past, 0).error().code, Errc::kBadLength);
    EXPECT_EQ(parse_attrs(ByteView(attribute(1, Bytes(8, 0))).first(10), 0).error().code,
              Errc::kBadLength);
}

// ---------------------------------------------------------------------------------------------
// parse_ack

Bytes nlmsgerr_bytes(int error, std::uint32_t seq, std::uint32_t echoed_len) {
    nlmsgerr e{};
    e.error = error;
    e.msg.nlmsg_len = echoed_len;
    e.msg.nlmsg_type = XFRM_MSG_NEWSA;
    e.msg.nlmsg_seq = seq;
    Bytes b(sizeof e);
    std::memcpy(b.data(), &e, sizeof e);
    return b;
}

Message only_message(const Bytes& datagram) {
    auto m = split_messages(datagram);
    EXPECT_TRUE(m);
    EXPECT_EQ(m ? m->size() : 0U, 1U);
    return m && !m->empty() ? m->front() : Message{};
}

TEST(ParseAck, PlainAck) {
    const Bytes d = message(NLMSG_ERROR, NLM_F_CAPPED, 9, nlmsgerr_bytes(0, 9, 16));
    auto a = parse_ack(only_message(d));
    ASSERT_TRUE(a) << a.error().to_string();
    EXPECT_EQ(a->error, 0);
    EXPECT_EQ(a->seq, 9U);
    EXPECT_TRUE(a->message.empty());
}

TEST(ParseAck, CappedWithMessage) {
    const Bytes payload =
            cat({nlmsgerr_bytes(-EINVAL, 3, 300), attribute(NLMSGERR_ATTR_OFFS, Bytes{16, 0, 0, 0}),
                 attribute(NLMSGERR_ATTR_MSG, text("Invalid replay window"))});
    const Bytes d = message(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 3, payload);
    auto a = parse_ack(only_message(d));
    ASSERT_TRUE(a) << a.error().to_string();
    EXPECT_EQ(a->error, -EINVAL);
    EXPECT_EQ(a->seq, 3U);
    EXPECT_EQ(a->message, "Invalid replay window");
}

TEST(ParseAck, UncappedEchoesTheRequest) {
    // NETLINK_CAP_ACK not honoured: the whole 22-byte request follows the error code, padded.
    Bytes echoed = nlmsgerr_bytes(-ENOSYS, 4, 22);
    echoed.insert(echoed.end(), {1, 2, 3, 4, 5, 6});
    echoed.resize(24 + 4, 0);  // align(4 + 22) = 28
    const Bytes payload = cat({echoed, attribute(NLMSGERR_ATTR_MSG, text("Requested type"))});
    auto a = parse_ack(only_message(message(NLMSG_ERROR, NLM_F_ACK_TLVS, 4, payload)));
    ASSERT_TRUE(a) << a.error().to_string();
    EXPECT_EQ(a->error, -ENOSYS);
    EXPECT_EQ(a->message, "Requested type");

    // Uncapped without TLVs: the echo is simply ignored.
    auto plain = parse_ack(only_message(message(NLMSG_ERROR, 0, 4, echoed)));
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->error, -ENOSYS);
    EXPECT_TRUE(plain->message.empty());
}

TEST(ParseAck, MessageWithoutNul) {
    const Bytes payload = cat(
            {nlmsgerr_bytes(-EPERM, 1, 16), attribute(NLMSGERR_ATTR_MSG, Bytes{'a', 'b', 'c'})});
    auto a = parse_ack(
            only_message(message(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 1, payload)));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->message, "abc");
}

TEST(ParseAck, Errors) {
    // Not an NLMSG_ERROR.
    EXPECT_FALSE(parse_ack(only_message(message(NLMSG_DONE, 0, 1, Bytes(20, 0)))));
    // Shorter than struct nlmsgerr.
    EXPECT_EQ(parse_ack(only_message(message(NLMSG_ERROR, 0, 1, Bytes(12, 0)))).error().code,
              Errc::kTruncated);
    // Uncapped echo longer than the message.
    EXPECT_EQ(parse_ack(only_message(message(NLMSG_ERROR, NLM_F_ACK_TLVS, 1,
                                             nlmsgerr_bytes(-EINVAL, 1, 200))))
                      .error()
                      .code,
              Errc::kBadLength);
    // Broken TLV.
    Bytes tlv = attribute(NLMSGERR_ATTR_MSG, text("x"));
    tlv[0] = 40;
    EXPECT_EQ(parse_ack(only_message(message(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 1,
                                             cat({nlmsgerr_bytes(-EINVAL, 1, 16), tlv}))))
                      .error()
                      .code,
              Errc::kBadLength);
}

// ---------------------------------------------------------------------------------------------
// Socket

TEST(NetlinkSocketOpen, BadProtocolFails) {
    auto s = Socket::open(9999);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, Errc::kSystem);
    EXPECT_NE(s.error().sys_errno, 0);
}

/// RTM_GETLINK for interface `index` (0 with a dump: every link).
Request get_link(int index) {
    Request req(RTM_GETLINK, 0);
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    req.header(ifi);
    return req;
}

/// A NETLINK_ROUTE socket: any process may read the links of its namespace.
class RouteSocket : public ::testing::Test {
protected:
    void SetUp() override {
        auto s = Socket::open(NETLINK_ROUTE);
        ASSERT_TRUE(s) << s.error().to_string();
        sock_ = std::move(*s);
    }
    Socket sock_;
};

TEST_F(RouteSocket, DumpOfLinksEnds) {
    Request req = get_link(0);
    auto r = sock_.dump(req);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_TRUE(r->error == 0 || r->error == -EINTR) << r->error;
    EXPECT_NE(req.flags() & NLM_F_DUMP, 0);
    ASSERT_FALSE(r->messages.empty());  // at least loopback
    for (const auto& m : r->messages) {
        const Message msg = only_message(m);  // a view into m
        EXPECT_EQ(msg.type, RTM_NEWLINK);
        auto attrs = parse_attrs(msg.payload, sizeof(ifinfomsg));
        ASSERT_TRUE(attrs) << attrs.error().to_string();
        EXPECT_TRUE(find_attr(*attrs, IFLA_IFNAME).has_value());
    }
}

TEST_F(RouteSocket, RefusalIsInTheReply) {
    // RTM_GETLINK for an interface index nobody has: the kernel answers ENODEV.
    Request req = get_link(0x7ffffff0);
    auto r = sock_.request(req);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->error, -ENODEV);
    EXPECT_TRUE(r->messages.empty());
    EXPECT_FALSE(kernel_says(*r).empty());
}

}  // namespace
}  // namespace ikeplex::netlink
