// EAP-TLS framing (RFC 5216 §3.1, §3.2).
#include "eap/tls_framing.h"

#include <algorithm>

namespace ikeplex::eap::tls {

Result<Fragment> parse(ByteView type_data) {
    if (type_data.empty()) {
        return make_error(Errc::kTruncated, "EAP-TLS: no Flags octet");
    }
    Fragment f;
    f.flags = type_data[0];
    ByteView rest = type_data.subspan(1);
    if ((f.flags & kFlagLength) != 0) {
        if (rest.size() < kLengthFieldSize) {
            return make_error(Errc::kTruncated, "EAP-TLS: L flag without a TLS Message Length");
        }
        f.message_length = (std::uint32_t{rest[0]} << 24) | (std::uint32_t{rest[1]} << 16) |
                           (std::uint32_t{rest[2]} << 8) | std::uint32_t{rest[3]};
        rest = rest.subspan(kLengthFieldSize);
    }
    f.data = rest;
    return f;
}

bool is_ack(const Fragment& f) noexcept {
    return f.data.empty() && (f.flags & (kFlagLength | kFlagMore | kFlagStart)) == 0;
}

Bytes ack_type_data() {
    return Bytes{0};
}

Bytes start_type_data() {
    return Bytes{kFlagStart};
}

Result<std::optional<Bytes>> Reassembler::add(const Fragment& f) {
    const bool more = (f.flags & kFlagMore) != 0;
    if (f.data.empty()) {
        return make_error(Errc::kInvalidSyntax, "EAP-TLS: fragment without data");
    }
    if (f.message_length) {
        if (*f.message_length > cap_) {
            return make_error(Errc::kTooLarge, "EAP-TLS: TLS Message Length over the limit");
        }
        if (in_progress_ && announced_ && *announced_ != *f.message_length) {
            return make_error(Errc::kBadLength, "EAP-TLS: TLS Message Length changed");
        }
    }
    if (!in_progress_) {
        if (more && !f.message_length) {
            return make_error(Errc::kInvalidSyntax,
                              "EAP-TLS: first fragment of a fragmented message without L");
        }
        announced_ = f.message_length;
        buffer_.clear();
        in_progress_ = true;
    }
    const std::size_t limit = announced_ ? std::min<std::size_t>(*announced_, cap_) : cap_;
    if (f.data.size() > limit - buffer_.size()) {
        in_progress_ = false;
        return make_error(announced_ ? Errc::kBadLength : Errc::kTooLarge,
                          announced_ ? "EAP-TLS: fragments exceed the TLS Message Length"
                                     : "EAP-TLS: reassembled message over the limit");
    }
    buffer_.insert(buffer_.end(), f.data.begin(), f.data.end());
    if (more) {
        return std::optional<Bytes>{};
    }
    in_progress_ = false;
    if (announced_ && buffer_.size() != *announced_) {
        return make_error(Errc::kBadLength, "EAP-TLS: fragments short of the TLS Message Length");
    }
    Bytes whole = std::move(buffer_);
    buffer_ = {};
    return std::optional<Bytes>{std::move(whole)};
}

void Fragmenter::load(Bytes message) {
    message_ = std::move(message);
    offset_ = 0;
}

Bytes Fragmenter::next() {
    const bool first = offset_ == 0;
    const std::size_t overhead = kHeaderSize + (first ? kLengthFieldSize : 0);
    const std::size_t room = fragment_size_ > overhead ? fragment_size_ - overhead : 1;
    const std::size_t n = std::min(room, message_.size() - offset_);
    const bool more = offset_ + n < message_.size();
    Bytes out;
    out.reserve(1 + (first ? kLengthFieldSize : 0) + n);
    out.push_back(static_cast<std::uint8_t>((first ? kFlagLength : 0) | (more ? kFlagMore : 0)));
    if (first) {
        const auto len = static_cast<std::uint32_t>(message_.size());
        out.push_back(static_cast<std::uint8_t>(len >> 24));
        out.push_back(static_cast<std::uint8_t>(len >> 16));
        out.push_back(static_cast<std::uint8_t>(len >> 8));
        out.push_back(static_cast<std::uint8_t>(len));
    }
    const auto begin = message_.begin() + static_cast<std::ptrdiff_t>(offset_);
    out.insert(out.end(), begin, begin + static_cast<std::ptrdiff_t>(n));
    offset_ += n;
    if (!more) {
        message_.clear();
        offset_ = 0;
    }
    return out;
}

}  // namespace ikeplex::eap::tls
