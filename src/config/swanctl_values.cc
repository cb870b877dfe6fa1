#include "config/swanctl_values.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <openssl/evp.h>

#include <fmt/format.h>

#include "ike/proposal.h"
#include "util/hex.h"

namespace ikeplex::config {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
        s.remove_suffix(1);
    }
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

}  // namespace

std::string key_path(std::string_view prefix, std::string_view name) {
    return prefix.empty() ? std::string(name) : fmt::format("{}.{}", prefix, name);
}

void Reporter::error(const SourcePos& pos, std::string_view key, std::string_view what) {
    findings_.errors.push_back(
            Diagnostic{pos, fmt::format("{}: {}", key_path(prefix_, key), what)});
}

void Reporter::warning(const SourcePos& pos, std::string_view key, std::string_view what) {
    findings_.warnings.push_back(
            Diagnostic{pos, fmt::format("{}: {}", key_path(prefix_, key), what)});
}

void apply_settings(const Section& section,
                    const std::map<std::string, Handler, std::less<>>& handlers, Reporter& r) {
    for (const Setting& s : section.settings) {
        if (!s.value) {
            continue;  // `key =`: unset, the default applies
        }
        auto it = handlers.find(s.name);
        if (it == handlers.end()) {
            r.error(s.pos, s.name, "unknown key");
            continue;
        }
        it->second(*s.value, s);
    }
}

/// A handler that accepts only the values listed as what ikeplex does; anything else is an
/// error with `why`.
Handler only(Reporter& r, std::vector<std::string> accepted, std::string why) {
    return [&r, accepted = std::move(accepted), why = std::move(why)](std::string_view v,
                                                                      const Setting& s) {
        if (std::find(accepted.begin(), accepted.end(), v) == accepted.end()) {
            r.error(s.pos, s.name, why);
        }
    };
}

/// A key ikeplex does not implement and that changes nothing it does if left at the default:
/// a warning that it is ignored.
Handler ignored(Reporter& r, std::string why) {
    return [&r, why = std::move(why)](std::string_view, const Setting& s) {
        r.warning(s.pos, s.name, why);
    };
}

/// A key ikeplex does not implement at all: an error.
Handler unsupported(Reporter& r, std::string why) {
    return [&r, why = std::move(why)](std::string_view, const Setting& s) {
        r.error(s.pos, s.name, why);
    };
}

namespace {

/// A handler storing `parse(value)` in `out`, or reporting `what` when it does not parse.
template <class Out, class Parse>
Handler parsed(Reporter& r, Out& out, Parse parse, const char* what) {
    return [&r, &out, parse, what](std::string_view v, const Setting& s) {
        if (auto x = parse(v)) {
            out = *x;
        } else {
            r.error(s.pos, s.name, what);
        }
    };
}

constexpr const char* kNotDuration = "not a duration (e.g. 90, 30m, 4h, 1d)";

}  // namespace

Handler duration(Reporter& r, ike::Duration& out) {
    return parsed(r, out, parse_duration, kNotDuration);
}

Handler duration(Reporter& r, std::optional<ike::Duration>& out) {
    return parsed(r, out, parse_duration, kNotDuration);
}

Handler number(Reporter& r, std::uint64_t& out) {
    return parsed(r, out, parse_u64, "not a number");
}

Handler number(Reporter& r, std::optional<std::uint64_t>& out) {
    return parsed(r, out, parse_u64, "not a number");
}

Handler flag(Reporter& r, bool& out) {
    return [&r, &out](std::string_view v, const Setting& s) {
        if (auto b = parse_bool(v)) {
            out = *b;
        } else {
            r.error(s.pos, s.name, "expected yes or no");
        }
    };
}

Handler proposals(Reporter& r, std::vector<wire::Proposal>& out, wire::ProtocolId protocol) {
    return [&r, &out, protocol](std::string_view v, const Setting& s) {
        std::string text(v);
        const std::string def = protocol == wire::ProtocolId::kIke ? default_ike_proposals()
                                                                   : default_esp_proposals();
        std::string expanded;
        for (const std::string& item : split_list(text)) {
            expanded += (expanded.empty() ? "" : ",") + (item == "default" ? def : item);
        }
        std::string why;
        auto parsed = ike::parse_proposals(expanded, protocol, &why);
        if (!parsed) {
            r.error(s.pos, s.name, why);
            return;
        }
        out = std::move(*parsed);
    };
}

std::vector<std::string> split_list(std::string_view value) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= value.size()) {
        const std::size_t comma = value.find(',', start);
        const std::string_view item = trim(value.substr(
                start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        if (!item.empty()) {
            out.emplace_back(item);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        start = comma + 1;
    }
    return out;
}

std::optional<bool> parse_bool(std::string_view value) {
    const std::string v = lower(trim(value));
    if (v == "yes" || v == "true" || v == "enabled" || v == "1") {
        return true;
    }
    if (v == "no" || v == "false" || v == "disabled" || v == "0") {
        return false;
    }
    return std::nullopt;
}

std::optional<std::uint64_t> parse_u64(std::string_view value) {
    value = trim(value);
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size() || value.empty()) {
        return std::nullopt;
    }
    return v;
}

std::optional<ike::Duration> parse_duration(std::string_view text) {
    text = trim(text);
    if (text.empty()) {
        return std::nullopt;
    }
    std::uint64_t factor = 1;
    switch (text.back()) {
        case 's':
            factor = 1;
            text.remove_suffix(1);
            break;
        case 'm':
            factor = 60;
            text.remove_suffix(1);
            break;
        case 'h':
            factor = 3600;
            text.remove_suffix(1);
            break;
        case 'd':
            factor = 86400;
            text.remove_suffix(1);
            break;
        default:
            break;
    }
    const auto n = parse_u64(text);
    if (!n || *n > 100ULL * 365 * 86400 / factor) {
        return std::nullopt;
    }
    return ike::Duration(static_cast<std::int64_t>(*n * factor * 1000));
}

std::optional<SecretBytes> parse_secret(std::string_view text) {
    if (text.starts_with("0x") || text.starts_with("0X")) {
        auto b = from_hex(text.substr(2));
        if (!b) {
            return std::nullopt;
        }
        return SecretBytes::copy_of(*b);
    }
    if (text.starts_with("0s")) {
        const std::string_view b64 = text.substr(2);
        Bytes out(b64.size() / 4 * 3 + 3);
        const int n =
                EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(b64.data()),
                                static_cast<int>(b64.size()));
        if (n < 0 || b64.size() % 4 != 0) {
            return std::nullopt;
        }
        auto len = static_cast<std::size_t>(n);
        for (auto it = b64.rbegin(); it != b64.rend() && *it == '=' && len > 0; ++it) {
            --len;  // EVP_DecodeBlock counts padding as data
        }
        out.resize(len);
        return SecretBytes::copy_of(out);
    }
    return SecretBytes::copy_of(
            ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::string default_ike_proposals() {
    // strongSwan's "default" for what ikeplex implements: AEAD first, then CBC + HMAC.
    return "aes128gcm16-aes256gcm16-chacha20poly1305-prfsha256-prfsha384-prfsha512-x25519-ecp256-"
           "ecp384-modp3072,"
           "aes128-aes192-aes256-sha256-sha384-sha512-x25519-ecp256-ecp384-modp3072";
}

std::string default_esp_proposals() {
    return "aes128gcm16-aes256gcm16-chacha20poly1305,aes128-aes256-sha256-sha384-sha512";
}

}  // namespace ikeplex::config
