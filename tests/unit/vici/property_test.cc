// Properties (rapidcheck): decode(encode(m)) == m for generated messages and packets; any
// bytes that decode re-encode to exactly those bytes; FrameReader gives the same packets however
// the stream is cut.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "vici/packet.h"

namespace ikeplex::vici {
namespace {

rc::Gen<std::string> gen_name() {
    // Mostly short names, sometimes up to the longest allowed; any bytes.
    return rc::gen::mapcat(rc::gen::weightedOneOf<std::size_t>(
                                   {{8, rc::gen::inRange<std::size_t>(1, 12)},
                                    {1, rc::gen::inRange<std::size_t>(1, kMaxNameLength + 1)}}),
                           [](std::size_t n) {
                               return rc::gen::container<std::string>(n,
                                                                      rc::gen::arbitrary<char>());
                           });
}

rc::Gen<Bytes> gen_value() {
    return rc::gen::mapcat(rc::gen::inRange<std::size_t>(0, 40), [](std::size_t n) {
        return rc::gen::container<Bytes>(n, rc::gen::arbitrary<std::uint8_t>());
    });
}

rc::Gen<Message> gen_message(int depth) {
    return rc::gen::exec([depth] {
        Message m;
        const int n = *rc::gen::inRange(0, 6);
        for (int i = 0; i < n; ++i) {
            const int kind = *rc::gen::inRange(0, depth > 0 ? 3 : 2);
            if (kind == 0) {
                m.entries.emplace_back(KeyValue{*gen_name(), *gen_value()});
            } else if (kind == 1) {
                const auto count = *rc::gen::inRange<std::size_t>(0, 5);
                m.entries.emplace_back(List{
                        *gen_name(), *rc::gen::container<std::vector<Bytes>>(count, gen_value())});
            } else {
                m.entries.emplace_back(Section{*gen_name(), *gen_message(depth - 1)});
            }
        }
        return m;
    });
}

rc::Gen<Packet> gen_packet() {
    return rc::gen::exec([] {
        Packet p;
        p.type = static_cast<PacketType>(*rc::gen::inRange(0, 8));
        if (is_named(p.type)) {
            p.name = *gen_name();
        }
        if (has_message(p.type)) {
            p.message = *gen_message(3);
        }
        return p;
    });
}

RC_GTEST_PROP(ViciProperty, MessageRoundTrip, ()) {
    const Message m = *gen_message(4);
    auto bytes = encode(m);
    if (!bytes) {
        RC_FAIL(bytes.error().to_string());
    }
    auto back = decode(*bytes);
    if (!back) {
        RC_FAIL(back.error().to_string());
    }
    RC_ASSERT(*back == m);
    RC_ASSERT(*encode(*back) == *bytes);
}

RC_GTEST_PROP(ViciProperty, DeepChainsRoundTripUpToTheLimit, ()) {
    const auto depth = *rc::gen::inRange<std::size_t>(0, kMaxDepth + 3);
    Message root;
    Message* m = &root;
    for (std::size_t i = 0; i < depth; ++i) {
        m->add("k", "v");
        m = &m->add_section(*gen_name());
    }
    auto bytes = encode(root);
    RC_ASSERT(bytes.has_value() == (depth <= kMaxDepth));
    if (bytes) {
        RC_ASSERT(*decode(*bytes) == root);
    }
}

RC_GTEST_PROP(ViciProperty, PacketRoundTrip, ()) {
    const Packet p = *gen_packet();
    auto bytes = encode_packet(p);
    if (!bytes) {
        RC_FAIL(bytes.error().to_string());
    }
    auto back = decode_packet(*bytes);
    if (!back) {
        RC_FAIL(back.error().to_string());
    }
    RC_ASSERT(*back == p);
}

RC_GTEST_PROP(ViciProperty, WhateverDecodesReEncodesExactly, ()) {
    // Arbitrary bytes, biased towards element and packet type values.
    const auto input = *rc::gen::container<Bytes>(rc::gen::weightedOneOf<std::uint8_t>(
            {{3, rc::gen::inRange<std::uint8_t>(0, 8)}, {1, rc::gen::arbitrary<std::uint8_t>()}}));
    if (auto m = decode(input)) {
        RC_ASSERT(*encode(*m) == input);
    }
    if (auto p = decode_packet(input)) {
        RC_ASSERT(*encode_packet(*p) == input);
    }
}

RC_GTEST_PROP(ViciProperty, FrameReaderAnyChunking, ()) {
    const auto packets = *rc::gen::container<std::vector<Packet>>(gen_packet());
    Bytes stream;
    for (const Packet& p : packets) {
        const Bytes f = *encode_frame(p);
        stream.insert(stream.end(), f.begin(), f.end());
    }
    FrameReader reader;
    std::vector<Packet> got;
    std::size_t at = 0;
    while (at < stream.size()) {
        const auto n = std::min(*rc::gen::inRange<std::size_t>(1, 64), stream.size() - at);
        reader.feed(ByteView(stream).subspan(at, n));
        at += n;
        for (;;) {
            auto p = reader.next();
            RC_ASSERT(p.has_value());
            if (!*p) {
                break;
            }
            got.push_back(std::move(**p));
        }
    }
    RC_ASSERT(got == packets);
    RC_ASSERT(reader.buffered() == 0U);
}

}  // namespace
}  // namespace ikeplex::vici
