// libFuzzer target: the VICI codec (src/vici).
//  1. The input as one packet and as a bare message: whatever decodes must re-encode to exactly
//     the input (the encoding is canonical) and decode again to the same value.
//  2. The input as a byte stream for FrameReader, fed in chunks whose sizes come from the input
//     itself: every packet it yields must be one that decode_packet gives for the same frame
//     data; after a fatal error it must stay failed.
//  3. A packet that decoded is framed and fed back through FrameReader one byte at a time.
// Seeds: every packet recorded between swanctl and charon 5.9.8 (tests/vectors/vici/packets).
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "vici/packet.h"

namespace {

using ikeplex::Bytes;
using ikeplex::ByteView;
using ikeplex::vici::FrameReader;
using ikeplex::vici::Packet;

void require(bool ok) {
    if (!ok) {
        std::abort();
    }
}

void fuzz_packet(ByteView data) {
    using namespace ikeplex::vici;
    auto p = decode_packet(data);
    if (!p) {
        return;
    }
    auto bytes = encode_packet(*p);
    require(bytes.has_value() && Bytes(data.begin(), data.end()) == *bytes);
    auto again = decode_packet(*bytes);
    require(again.has_value() && *again == *p);
    (void)dump(p->message);

    // Through the framing, byte by byte.
    auto frame = encode_frame(*p);
    require(frame.has_value());
    FrameReader reader;
    std::optional<Packet> got;
    for (std::size_t i = 0; i < frame->size(); ++i) {
        reader.feed(ByteView(*frame).subspan(i, 1));
        auto next = reader.next();
        require(next.has_value());
        if (*next) {
            require(i + 1 == frame->size() && !got);
            got = std::move(**next);
        }
    }
    require(got.has_value() && *got == *p && reader.buffered() == 0);
}

void fuzz_message(ByteView data) {
    using namespace ikeplex::vici;
    auto m = decode(data);
    if (!m) {
        return;
    }
    auto bytes = encode(*m);
    require(bytes.has_value() && Bytes(data.begin(), data.end()) == *bytes);
}

void fuzz_stream(ByteView data) {
    using namespace ikeplex::vici;
    // A small limit now and then, so over-long frames are reached without 512 KiB inputs.
    const std::size_t limit = (!data.empty() && data[0] == 0xff) ? 64 : kMaxFrameLength;
    FrameReader reader(limit);
    std::size_t at = 0;
    std::size_t frames_end = 0;  // where the frames returned so far end in `data`
    std::size_t step = 1;
    while (at < data.size()) {
        step = (step * 7 + data[at]) % 29 + 1;
        const std::size_t n = std::min(step, data.size() - at);
        reader.feed(data.subspan(at, n));
        at += n;
        for (;;) {
            auto next = reader.next();
            if (reader.failed()) {
                require(!next.has_value());
                require(!reader.next().has_value() && reader.buffered() == 0);
                return;
            }
            // Re-frame independently: the next frame starts at frames_end.
            if (next.has_value() && !*next) {
                break;
            }
            require(frames_end + 4 <= at);
            const std::uint32_t len = (std::uint32_t{data[frames_end]} << 24U) |
                                      (std::uint32_t{data[frames_end + 1]} << 16U) |
                                      (std::uint32_t{data[frames_end + 2]} << 8U) |
                                      std::uint32_t{data[frames_end + 3]};
            const ByteView payload = data.subspan(frames_end + 4, len);
            frames_end += 4 + len;
            auto direct = decode_packet(payload);
            require(direct.has_value() == next.has_value());
            if (direct) {
                require(*direct == **next);
            } else {
                require(direct.error() == next.error());
            }
        }
    }
    require(reader.buffered() == data.size() - frames_end);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView in(data, size);
    fuzz_packet(in);
    fuzz_message(in);
    fuzz_stream(in);
    return 0;
}
