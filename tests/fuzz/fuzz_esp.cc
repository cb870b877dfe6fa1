// libFuzzer target: inbound ESP processing (src/esp) as a worker runs it, under fixed keys
// (tests/unit/esp/fuzz_sas.h: AES-GCM-128, ChaCha20-Poly1305, AES-CBC + HMAC-SHA2-256 on
// OpenSSL, AES-GCM-256 on IPsec-MB). The first input byte selects the SA, ESN and window size.
//  1. peek_header → ReplayWindow::check → decapsulate in tunnel and in transport mode →
//     add_transport_header. Whatever decapsulates must be a well-formed result: tunnel mode an
//     IP packet of the version the next header says; transport mode an IP packet once the
//     header is added; the window must then refuse the same number. A tunnel payload that
//     decapsulated is encapsulated again (with the packet's IV) and must decapsulate to itself.
//  2. Replay mode (flags bit 7): the input is a list of sequence numbers fed to check/update;
//     a number accepted and marked is never accepted again, and without ESN the window agrees
//     with a plain set-based model.
// Seeds: tests/fuzz/corpus/esp (valid packets under these keys; esp_test checks and can
// rewrite them).
#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <set>

#include "esp/esp_codec.h"
#include "esp/replay_window.h"
#include "fuzz_sas.h"

namespace {

using namespace ikeplex;
using namespace ikeplex::esp;

void require(bool ok) {
    if (!ok) {
        std::abort();
    }
}

std::array<std::unique_ptr<SaCrypto>, 4>& sa_cryptos() {
    static std::array<std::unique_ptr<SaCrypto>, 4> s = [] {
        std::array<std::unique_ptr<SaCrypto>, 4> a;
        for (std::size_t i = 0; i < a.size(); ++i) {
            a[i] = fuzz::make_sa(i);
        }
        return a;
    }();
    return s;
}

void fuzz_replay(std::uint8_t flags, ByteView data) {
    const bool esn = (flags & fuzz::kEsn) != 0;
    const std::uint32_t size = fuzz::kWindowSizes[flags & 7U];
    ReplayWindow win(size, esn);
    std::set<std::uint64_t> seen;
    std::uint64_t top = 0;
    for (std::size_t at = 0; at + 4 <= data.size(); at += 4) {
        const std::uint32_t low = (std::uint32_t{data[at]} << 24U) |
                                  (std::uint32_t{data[at + 1]} << 16U) |
                                  (std::uint32_t{data[at + 2]} << 8U) | data[at + 3];
        const auto got = win.check(low);
        if (!esn) {
            const bool model = low != 0 && (size == 0 || low > top ||
                                            (top - low < size && seen.count(low) == 0));
            require(got.has_value() == model);
        }
        if (!got) {
            continue;
        }
        require(static_cast<std::uint32_t>(*got) == low && *got != 0);
        // Mark only the odd ones (the others "failed the ICV").
        if ((low & 1U) == 0) {
            continue;
        }
        require(win.update(*got));
        seen.insert(*got);
        top = std::max(top, *got);
        require(win.highest() == top);
        if (size != 0) {
            require(!win.check(low).has_value() || *win.check(low) != *got);
            require(!win.update(*got));
        }
    }
}

void fuzz_packet(std::uint8_t flags, ByteView data) {
    const bool esn = (flags & fuzz::kEsn) != 0;
    SaCrypto& sa = *sa_cryptos()[flags & 3U];
    const auto hdr = peek_header(data);
    if (!hdr) {
        require(data.size() < 8 || (data[0] | data[1] | data[2] | data[3]) == 0);
        return;
    }
    for (const Mode mode : {Mode::kTunnel, Mode::kTransport}) {
        ReplayWindow win(fuzz::kWindowSizes[(flags >> 4U) & 7U], esn);
        const auto seq = win.check(hdr->seq);
        if (!seq) {
            continue;
        }
        PacketBuf pkt;
        require(pkt.assign(data));
        std::uint8_t nh = 0;
        const Drop d = decapsulate(sa, *seq, esn, mode, pkt, nh);
        require(d != Drop::kCount && d != Drop::kCrypto);
        if (d == Drop::kDummy) {
            require(nh == next_header::kNoNext);
        }
        if (d != Drop::kNone) {
            continue;
        }
        require(win.update(*seq));
        require(win.size() == 0 || !win.check(hdr->seq).has_value() ||
                *win.check(hdr->seq) != *seq);
        if (mode == Mode::kTunnel) {
            require(nh == next_header::kIpv4 || nh == next_header::kIpv6);
            require(ip_packet_length(pkt.bytes()) == pkt.size());
            require((pkt.data()[0] >> 4U) == (nh == next_header::kIpv4 ? 4U : 6U));
            // Again through encapsulation with the same IV: decapsulates to the same packet.
            const Bytes inner(pkt.bytes().begin(), pkt.bytes().end());
            require(encapsulate_with_iv(sa, hdr->spi, *seq, esn, Mode::kTunnel, pkt,
                                        data.subspan(8, sa.iv_size())) == Drop::kNone);
            std::uint8_t nh2 = 0;
            require(decapsulate(sa, *seq, esn, Mode::kTunnel, pkt, nh2) == Drop::kNone);
            require(nh2 == nh && Bytes(pkt.bytes().begin(), pkt.bytes().end()) == inner);
        } else {
            const bool v4 = (hdr->seq & 1U) == 0;
            const IpAddress src = v4 ? IpAddress::v4(0x0a630101) : IpAddress::any(6);
            const IpAddress dst = v4 ? IpAddress::v4(0x0a630201) : IpAddress::all_ones(6);
            const std::size_t len = pkt.size();
            const bool added = add_transport_header(pkt, src, dst, nh);
            require(added == (len <= 65535 - (v4 ? 20 : 0)));
            if (added) {
                require(ip_packet_length(pkt.bytes()) == pkt.size());
                require(pkt.data()[v4 ? 9 : 6] == nh);
            }
        }
    }
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const ByteView in(data + 1, size - 1);
    if ((data[0] & fuzz::kReplayMode) != 0) {
        fuzz_replay(data[0], in);
    } else {
        fuzz_packet(data[0], in);
    }
    return 0;
}
