// IkeSa: protecting outgoing messages (SK, or SKF fragments, RFC 7383) and opening incoming
// ones (decryption, reassembly, structural checks of the contents).
#include <algorithm>

#include "ike/ike_intermediate.h"
#include "ike/ike_sa.h"
#include "util/log.h"
#include "wire/describe.h"
#include "wire/names.h"
#include "wire/payload_rules.h"

namespace ikeplex::ike {
namespace {

/// Fragments a message may have before we stop collecting (memory bound).
constexpr std::uint16_t kMaxFragments = 64;
/// Headroom for the IP (IPv6: 40) and UDP (8) headers and the non-ESP marker (4).
constexpr std::size_t kIpUdpMarker = 52;

std::uint32_t reassembly_key(std::uint32_t mid, bool response) noexcept {
    return (mid << 1U) | (response ? 1U : 0U);
}

}  // namespace

Result<std::vector<Bytes>> IkeSa::protect(const wire::Header& h,
                                          std::vector<wire::Payload>&& payloads) {
    if (h.exchange == wire::ExchangeType::kIkeSaInit) {
        return std::vector<Bytes>{
                IKEPLEX_TRY(wire::write_message(wire::Message{h, std::move(payloads)}))};
    }
    if (!crypto_) {
        return make_error(Errc::kState, "no keys to protect the message with");
    }
    const SkCipher& c = crypto_->out;
    const Bytes plain = IKEPLEX_TRY(wire::write_payload_chain(payloads));
    const wire::PayloadType first =
            payloads.empty() ? wire::PayloadType::kNone : payloads.front().type;
    Bytes iv = services_.random.bytes(c.iv_size());
    Bytes whole = IKEPLEX_TRY(c.seal(h, first, plain, iv, c.default_padding(plain.size())));
    if (h.exchange == wire::ExchangeType::kIkeIntermediate) {
        IKEPLEX_TRY(note_intermediate_message(*this, h.is_response(), whole, plain));
    }

    const std::size_t limit = services_.settings.fragment_size > kIpUdpMarker + 256
                                      ? services_.settings.fragment_size - kIpUdpMarker
                                      : 256;
    const bool may_fragment = peer_fragmentation_ && config_ != nullptr && config_->fragmentation;
    if (whole.size() <= limit || !may_fragment) {
        return std::vector<Bytes>{std::move(whole)};
    }
    // RFC 7383 §2.5: split the plaintext so that each fragment message stays under the limit;
    // every fragment is protected on its own.
    const std::size_t overhead =
            wire::kIkeHeaderSize + 4 + c.overhead(c.default_padding(0).size() + 16);
    const std::size_t chunk = limit > overhead + 64 ? limit - overhead : 64;
    const std::size_t total = (plain.size() + chunk - 1) / chunk;
    if (total > kMaxFragments) {
        return make_error(Errc::kTooLarge, "message needs too many fragments");
    }
    std::vector<Bytes> out;
    for (std::size_t i = 0; i < total; ++i) {
        const ByteView part =
                ByteView(plain).subspan(i * chunk, std::min(chunk, plain.size() - i * chunk));
        iv = services_.random.bytes(c.iv_size());
        out.push_back(IKEPLEX_TRY(c.seal_fragment(
                h, i == 0 ? first : wire::PayloadType::kNone, static_cast<std::uint16_t>(i + 1),
                static_cast<std::uint16_t>(total), part, iv, c.default_padding(part.size()))));
    }
    IKE_LOG(debug, *this, "splitting IKE message ({} bytes) into {} fragments", whole.size(),
            total);
    return out;
}

std::optional<Result<std::vector<wire::Payload>>> IkeSa::unprotect(const wire::Message& m,
                                                                   ByteView raw, Step& step) {
    if (m.header.exchange == wire::ExchangeType::kIkeSaInit) {
        return Result<std::vector<wire::Payload>>(m.payloads);
    }
    if (!crypto_) {
        log::debug(log::Subsystem::kEnc, "{} encrypted message before keys exist, dropped",
                   label());
        return std::nullopt;
    }
    auto opened = crypto_->in.open(raw, m);
    if (!opened) {
        // Anyone who sees our SPIs can send these: rate-limited.
        PEER_LOG(services_.peer_log, step.now, info, log::Subsystem::kEnc,
                 "{} {} message dropped: {}", label(), wire::to_string(m.header.exchange),
                 wire::describe(opened.error()));
        return std::nullopt;
    }
    Bytes plain;
    Bytes whole;  // IKE_INTERMEDIATE, fragmented: its first fragment
    wire::PayloadType first = wire::PayloadType::kNone;
    if (const auto* sk = m.sk()) {
        plain = std::move(opened->plaintext);
        first = sk->first_inner;
    } else {
        const wire::SkfPayload& f = *m.skf();
        const std::uint32_t key =
                reassembly_key(m.header.message_id.value(), m.header.is_response());
        Reassembly& r = reassembly_[key];
        if (f.total_fragments > kMaxFragments) {
            reassembly_.erase(key);
            PEER_LOG(services_.peer_log, step.now, info, log::Subsystem::kEnc,
                     "{} message with {} fragments dropped", label(), f.total_fragments);
            return std::nullopt;
        }
        // RFC 7383 §2.6: a larger Total Fragments restarts the reassembly; a smaller one is
        // a stale fragment and dropped.
        if (f.total_fragments > r.total) {
            r = Reassembly{f.total_fragments, wire::PayloadType::kNone, {}, {}};
        } else if (f.total_fragments < r.total) {
            return std::nullopt;
        }
        if (f.fragment_number == 1) {
            r.first = f.first_inner;
            if (m.header.exchange == wire::ExchangeType::kIkeIntermediate) {
                r.first_fragment.assign(raw.begin(), raw.end());
            }
        }
        r.parts.emplace(f.fragment_number, std::move(opened->plaintext));
        if (r.parts.size() < r.total) {
            return std::nullopt;
        }
        for (auto& [n, part] : r.parts) {
            plain.insert(plain.end(), part.begin(), part.end());
        }
        first = r.first;
        whole = std::move(r.first_fragment);
        reassembly_.erase(key);
        IKE_LOG(debug, *this, "reassembled {} fragments ({} bytes)", f.total_fragments,
                plain.size());
    }
    if (m.header.exchange == wire::ExchangeType::kIkeIntermediate) {
        const ByteView as_received = whole.empty() ? raw : ByteView(whole);
        if (auto noted =
                    note_intermediate_message(*this, m.header.is_response(), as_received, plain);
            !noted) {
            return Result<std::vector<wire::Payload>>(noted.error());
        }
    }
    auto inner = wire::parse_payload_chain(first, plain);
    if (!inner) {
        return Result<std::vector<wire::Payload>>(inner.error());
    }
    if (auto rules = wire::check_inner_rules(m.header, *inner); !rules) {
        return Result<std::vector<wire::Payload>>(rules.error());
    }
    return inner;
}

}  // namespace ikeplex::ike
