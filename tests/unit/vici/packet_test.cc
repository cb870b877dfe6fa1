// vici packets and FrameReader: every packet type, every encode and decode error, framing
// split at every byte boundary, the 512 KiB limit, and recovery after a bad packet.
#include "vici/packet.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "util/hex.h"

namespace ikeplex::vici {
namespace {

Bytes bytes_of(std::initializer_list<int> v) {
    Bytes out;
    for (const int b : v) {
        out.push_back(static_cast<std::uint8_t>(b));
    }
    return out;
}

Message small_message() {
    Message m;
    m.add("k", "v");
    return m;
}

TEST(ViciPacket, TypeTraits) {
    EXPECT_TRUE(is_named(PacketType::kCmdRequest));
    EXPECT_FALSE(is_named(PacketType::kCmdResponse));
    EXPECT_FALSE(is_named(PacketType::kCmdUnknown));
    EXPECT_TRUE(is_named(PacketType::kEventRegister));
    EXPECT_TRUE(is_named(PacketType::kEventUnregister));
    EXPECT_FALSE(is_named(PacketType::kEventConfirm));
    EXPECT_FALSE(is_named(PacketType::kEventUnknown));
    EXPECT_TRUE(is_named(PacketType::kEvent));
    EXPECT_TRUE(has_message(PacketType::kCmdRequest));
    EXPECT_TRUE(has_message(PacketType::kCmdResponse));
    EXPECT_TRUE(has_message(PacketType::kEvent));
    for (auto t :
         {PacketType::kCmdUnknown, PacketType::kEventRegister, PacketType::kEventUnregister,
          PacketType::kEventConfirm, PacketType::kEventUnknown}) {
        EXPECT_FALSE(has_message(t)) << to_string(t);
    }
    EXPECT_STREQ(to_string(PacketType::kEventUnregister), "EVENT_UNREGISTER");
    EXPECT_STREQ(to_string(static_cast<PacketType>(8)), "UNKNOWN");
}

TEST(ViciPacket, EveryTypeEncodesAsTheReadmeSays) {
    struct Case {
        Packet p;
        Bytes bytes;
    };
    const std::vector<Case> cases = {
            {{PacketType::kCmdRequest, "version", {}},
             bytes_of({0, 7, 'v', 'e', 'r', 's', 'i', 'o', 'n'})},
            {{PacketType::kCmdRequest, "x", small_message()},
             bytes_of({0, 1, 'x', 3, 1, 'k', 0, 1, 'v'})},
            {{PacketType::kCmdResponse, "", small_message()}, bytes_of({1, 3, 1, 'k', 0, 1, 'v'})},
            {{PacketType::kCmdResponse, "", {}}, bytes_of({1})},
            {{PacketType::kCmdUnknown, "", {}}, bytes_of({2})},
            {{PacketType::kEventRegister, "log", {}}, bytes_of({3, 3, 'l', 'o', 'g'})},
            {{PacketType::kEventUnregister, "log", {}}, bytes_of({4, 3, 'l', 'o', 'g'})},
            {{PacketType::kEventConfirm, "", {}}, bytes_of({5})},
            {{PacketType::kEventUnknown, "", {}}, bytes_of({6})},
            {{PacketType::kEvent, "e", small_message()},
             bytes_of({7, 1, 'e', 3, 1, 'k', 0, 1, 'v'})},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(to_string(c.p.type));
        auto bytes = encode_packet(c.p);
        ASSERT_TRUE(bytes) << bytes.error().to_string();
        EXPECT_EQ(to_hex(*bytes), to_hex(c.bytes));
        auto back = decode_packet(c.bytes);
        ASSERT_TRUE(back) << back.error().to_string();
        EXPECT_EQ(*back, c.p);
        auto frame = encode_frame(c.p);
        ASSERT_TRUE(frame);
        Bytes expected = bytes_of({0, 0, 0, static_cast<int>(c.bytes.size())});
        expected.insert(expected.end(), c.bytes.begin(), c.bytes.end());
        EXPECT_EQ(to_hex(*frame), to_hex(expected));
    }
}

TEST(ViciPacket, EveryEncodeError) {
    Message big;  // 9 values of 64 KiB: more than a frame may hold
    for (int i = 0; i < 9; ++i) {
        big.add("k", std::string(kMaxValueLength, 'v'));
    }
    Message bad_message;
    bad_message.add("", "v");
    struct Case {
        const char* what;
        Packet p;
        Errc code;
        const char* detail;
    };
    const std::vector<Case> cases = {
            {"request without name",
             {PacketType::kCmdRequest, "", {}},
             Errc::kInvalidArgument,
             "vici: packet type needs a name"},
            {"event without name",
             {PacketType::kEvent, "", {}},
             Errc::kInvalidArgument,
             "vici: packet type needs a name"},
            {"response with name",
             {PacketType::kCmdResponse, "x", {}},
             Errc::kInvalidArgument,
             "vici: packet type has no name"},
            {"confirm with name",
             {PacketType::kEventConfirm, "x", {}},
             Errc::kInvalidArgument,
             "vici: packet type has no name"},
            {"register with message",
             {PacketType::kEventRegister, "x", small_message()},
             Errc::kInvalidArgument,
             "vici: packet type has no message"},
            {"cmd unknown with message",
             {PacketType::kCmdUnknown, "", small_message()},
             Errc::kInvalidArgument,
             "vici: packet type has no message"},
            {"long name",
             {PacketType::kCmdRequest, std::string(256, 'n'), {}},
             Errc::kTooLarge,
             "vici: packet name longer than 255 bytes"},
            {"unknown type",
             {static_cast<PacketType>(8), "", {}},
             Errc::kInvalidArgument,
             "vici: unknown packet type"},
            {"over 512 KiB",
             {PacketType::kCmdResponse, "", big},
             Errc::kTooLarge,
             "vici: packet longer than the frame limit"},
            {"bad message",
             {PacketType::kCmdResponse, "", bad_message},
             Errc::kInvalidArgument,
             "vici: empty name"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        auto bytes = encode_packet(c.p);
        ASSERT_FALSE(bytes);
        EXPECT_EQ(bytes.error().code, c.code);
        EXPECT_STREQ(bytes.error().detail, c.detail);
        EXPECT_FALSE(encode_frame(c.p));
    }
    // The longest name is fine.
    EXPECT_TRUE(encode_packet({PacketType::kCmdRequest, std::string(255, 'n'), {}}));
}

TEST(ViciPacket, EveryDecodeError) {
    struct Case {
        const char* what;
        Bytes bytes;
        Errc code;
        const char* detail;
        std::uint32_t arg;
    };
    const std::vector<Case> cases = {
            {"empty", {}, Errc::kTruncated, "vici: packet type", 0},
            {"type 8", bytes_of({8}), Errc::kUnsupported, "vici: unknown packet type", 8},
            {"type 255", bytes_of({255, 1, 2}), Errc::kUnsupported, "vici: unknown packet type",
             255},
            {"name length missing", bytes_of({0}), Errc::kTruncated, "vici: packet name length", 0},
            {"event name length missing", bytes_of({7}), Errc::kTruncated,
             "vici: packet name length", 0},
            {"name cut", bytes_of({0, 5, 'a', 'b'}), Errc::kTruncated, "vici: packet name", 0},
            {"empty name", bytes_of({0, 0}), Errc::kInvalidSyntax, "vici: empty packet name", 0},
            {"empty event name", bytes_of({3, 0}), Errc::kInvalidSyntax, "vici: empty packet name",
             0},
            {"bytes after confirm", bytes_of({5, 0}), Errc::kBadLength,
             "vici: bytes after a packet without message", 1},
            {"bytes after unknown", bytes_of({2, 1, 2}), Errc::kBadLength,
             "vici: bytes after a packet without message", 2},
            {"message after register", bytes_of({3, 1, 'x', 3, 1, 'k', 0, 0}), Errc::kBadLength,
             "vici: bytes after a packet without message", 5},
            {"bad message in response", bytes_of({1, 9}), Errc::kInvalidSyntax,
             "vici: unknown element type", 9},
            {"bad message in request", bytes_of({0, 1, 'x', 1, 1, 's'}), Errc::kInvalidSyntax,
             "vici: section not closed", 0},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        auto p = decode_packet(c.bytes);
        ASSERT_FALSE(p);
        EXPECT_EQ(p.error().code, c.code) << p.error().to_string();
        EXPECT_STREQ(p.error().detail, c.detail);
        EXPECT_EQ(p.error().arg, c.arg);
    }
    Bytes huge(kMaxFrameLength + 1, 0);
    huge[0] = 1;
    auto p = decode_packet(huge);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, Errc::kTooLarge);
}

// ---- FrameReader -----------------------------------------------------------------------------

std::vector<Packet> sample_packets() {
    Message list_sa;
    Message& ike = list_sa.add_section("t");
    ike.add("state", "ESTABLISHED");
    ike.add_section("child-sas").add_section("net-1").add_list("local-ts", {"10.99.1.0/24"});
    return {
            {PacketType::kEventRegister, "list-sa", {}}, {PacketType::kEventConfirm, "", {}},
            {PacketType::kCmdRequest, "list-sas", {}},   {PacketType::kEvent, "list-sa", list_sa},
            {PacketType::kCmdResponse, "", {}},
    };
}

Bytes frames_of(const std::vector<Packet>& packets) {
    Bytes out;
    for (const Packet& p : packets) {
        const Bytes f = encode_frame(p).value();
        out.insert(out.end(), f.begin(), f.end());
    }
    return out;
}

/// Every packet `reader` has complete now; fails the test on an error.
void drain(FrameReader& reader, std::vector<Packet>& out) {
    for (;;) {
        auto p = reader.next();
        ASSERT_TRUE(p) << p.error().to_string();
        if (!*p) {
            return;
        }
        out.push_back(std::move(**p));
    }
}

TEST(ViciFrameReader, SplitAtEveryByteBoundary) {
    const auto packets = sample_packets();
    const Bytes stream = frames_of(packets);
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        SCOPED_TRACE(cut);
        FrameReader reader;
        std::vector<Packet> got;
        reader.feed(ByteView(stream).first(cut));
        drain(reader, got);
        reader.feed(ByteView(stream).subspan(cut));
        drain(reader, got);
        EXPECT_EQ(got, packets);
        EXPECT_EQ(reader.buffered(), 0U);
    }
}

TEST(ViciFrameReader, ByteByByteAndAllAtOnce) {
    const auto packets = sample_packets();
    const Bytes stream = frames_of(packets);
    FrameReader one;
    std::vector<Packet> got;
    for (std::size_t i = 0; i < stream.size(); ++i) {
        one.feed(ByteView(stream).subspan(i, 1));
        drain(one, got);
    }
    EXPECT_EQ(got, packets);
    FrameReader all;
    got.clear();
    all.feed(stream);
    EXPECT_EQ(all.buffered(), stream.size());
    drain(all, got);
    EXPECT_EQ(got, packets);
}

TEST(ViciFrameReader, NeedsMoreBytes) {
    FrameReader reader;
    EXPECT_FALSE(*reader.next());
    reader.feed(bytes_of({0, 0, 0}));
    EXPECT_FALSE(*reader.next());
    reader.feed(bytes_of({1}));
    EXPECT_FALSE(*reader.next());
    EXPECT_EQ(reader.buffered(), 4U);
    reader.feed(bytes_of({5, 0}));  // EVENT_CONFIRM and the first byte of the next frame
    auto p = reader.next();
    ASSERT_TRUE(p && *p);
    EXPECT_EQ((*p)->type, PacketType::kEventConfirm);
    EXPECT_FALSE(*reader.next());
    EXPECT_EQ(reader.buffered(), 1U);
    EXPECT_FALSE(reader.failed());
}

/// A CMD_RESPONSE packet of exactly `size` bytes (size >= 6).
Bytes response_of_size(std::size_t size) {
    Message m;
    std::size_t left = size - 1;  // the type byte
    while (left > 0) {
        // key/value "k": 5 bytes of overhead plus the value
        const std::size_t value = std::min(left - 5, kMaxValueLength);
        m.add("k", std::string(value, 'v'));
        left -= value + 5;
    }
    return encode_packet({PacketType::kCmdResponse, "", m}).value();
}

TEST(ViciFrameReader, FrameOfExactlyTheLimitIsAccepted) {
    const Bytes payload = response_of_size(kMaxFrameLength);
    ASSERT_EQ(payload.size(), kMaxFrameLength);
    Writer w;
    w.write_u32(static_cast<std::uint32_t>(payload.size()));
    w.write_bytes(payload);
    FrameReader reader;
    reader.feed(w.view());
    auto p = reader.next();
    ASSERT_TRUE(p) << p.error().to_string();
    ASSERT_TRUE(*p);
    EXPECT_EQ((*p)->message.size(), 8U);  // 7 values of 65535 bytes and one of 65502
}

TEST(ViciFrameReader, OverLongFrameIsFatalAsSoonAsItsLengthIsIn) {
    FrameReader reader;
    const auto len = static_cast<std::uint32_t>(kMaxFrameLength + 1);
    Writer w;
    w.write_u32(len);
    reader.feed(w.view());  // only the length prefix
    auto p = reader.next();
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, Errc::kTooLarge);
    EXPECT_STREQ(p.error().detail, "vici: frame longer than the limit");
    EXPECT_EQ(p.error().arg, len);
    EXPECT_TRUE(reader.failed());
    // It stays failed: good frames after it are not looked at.
    reader.feed(frames_of(sample_packets()));
    EXPECT_EQ(reader.buffered(), 0U);
    auto again = reader.next();
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().arg, len);
}

TEST(ViciFrameReader, CustomLimit) {
    FrameReader reader(9);
    reader.feed(*encode_frame({PacketType::kCmdRequest, "version", {}}));  // 9 bytes: fine
    auto p = reader.next();
    ASSERT_TRUE(p && *p);
    reader.feed(*encode_frame({PacketType::kCmdRequest, "versionX", {}}));  // 10 bytes
    EXPECT_FALSE(reader.next());
    EXPECT_TRUE(reader.failed());
    FrameReader huge;
    huge.feed(bytes_of({0xff, 0xff, 0xff, 0xff}));
    EXPECT_FALSE(huge.next());
    EXPECT_TRUE(huge.failed());
}

TEST(ViciFrameReader, BadPacketIsReportedOnceAndTheStreamGoesOn) {
    Bytes stream = *encode_frame({PacketType::kCmdRequest, "stats", {}});
    const Bytes bad = bytes_of({0, 0, 0, 2, 9, 9});         // a frame with an unknown packet type
    const Bytes empty = bytes_of({0, 0, 0, 0});             // a zero-length frame
    const Bytes unbalanced = bytes_of({0, 0, 0, 2, 1, 2});  // CMD_RESPONSE with a stray end
    for (const Bytes* b : {&bad, &empty, &unbalanced}) {
        stream.insert(stream.end(), b->begin(), b->end());
    }
    const Bytes last = *encode_frame({PacketType::kCmdResponse, "", small_message()});
    stream.insert(stream.end(), last.begin(), last.end());

    FrameReader reader;
    reader.feed(stream);
    auto first = reader.next();
    ASSERT_TRUE(first && *first);
    EXPECT_EQ((*first)->name, "stats");
    const Errc expected[] = {Errc::kUnsupported, Errc::kTruncated, Errc::kInvalidSyntax};
    for (const Errc code : expected) {
        auto p = reader.next();
        ASSERT_FALSE(p);
        EXPECT_EQ(p.error().code, code) << p.error().to_string();
        EXPECT_FALSE(reader.failed());
    }
    auto after = reader.next();
    ASSERT_TRUE(after && *after);
    EXPECT_EQ((*after)->message, small_message());
    EXPECT_FALSE(*reader.next());
}

// After a large frame the reader gives its buffer back (a client that once sent a big
// load-conn does not keep 512 KiB for the rest of its connection).
TEST(ViciFrameReader, GivesALargeBufferBackOnceEverythingIsReturned) {
    Message m;
    for (const char* key : {"a", "b", "c", "d", "e"}) {
        m.add(key, std::string(60 * 1024, 'b'));  // a value holds at most 65535 bytes
    }
    const Bytes big = encode_frame(Packet{PacketType::kCmdRequest, "load-conn", m}).value();
    FrameReader reader;
    reader.feed(ByteView(big).first(big.size() - 1));
    EXPECT_FALSE(*reader.next());  // needs its last byte: the buffer is kept
    EXPECT_GE(reader.capacity(), big.size() - 1);
    reader.feed(ByteView(big).last(1));
    auto p = reader.next();
    ASSERT_TRUE(p && *p);
    EXPECT_EQ((*p)->message, m);
    EXPECT_FALSE(*reader.next());
    EXPECT_LE(reader.capacity(), FrameReader::kKeepCapacity);
    EXPECT_EQ(reader.buffered(), 0U);
}

}  // namespace
}  // namespace ikeplex::vici
