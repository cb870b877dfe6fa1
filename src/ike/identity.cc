#include "ike/identity.h"

#include <algorithm>
#include <cctype>

#include "crypto/x509.h"
#include "util/hex.h"

namespace ikeplex::ike {
namespace {

using wire::IdType;

bool iequal(ByteView a, ByteView b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](std::uint8_t x, std::uint8_t y) {
               return std::tolower(x) == std::tolower(y);
           });
}

}  // namespace

Result<Identity> Identity::parse(std::string_view text) {
    Identity id;
    if (text.empty()) {
        return make_error(Errc::kConfig, "identity: empty");
    }
    if (text == "%any" || text == "%any4" || text == "%any6") {
        id.any = true;
        return id;
    }
    if (text.rfind("@#", 0) == 0) {
        id.type = IdType::kKeyId;
        id.data = IKEPLEX_TRY(from_hex(text.substr(2)));
        return id;
    }
    if (text.front() == '@') {
        id.type = IdType::kFqdn;
        id.data = to_bytes(text.substr(1));
        return id;
    }
    if (text.find('=') != std::string_view::npos) {
        id.type = IdType::kDerAsn1Dn;
        auto dn = crypto::dn_from_string(text);
        if (!dn) {
            return make_error(Errc::kConfig, "identity: not a valid distinguished name");
        }
        id.data = std::move(*dn);
        return id;
    }
    if (auto ip = IpAddress::parse(text)) {
        return from_address(*ip);
    }
    id.type = text.find('@') != std::string_view::npos ? IdType::kRfc822Addr : IdType::kFqdn;
    id.data = to_bytes(text);
    return id;
}

Identity Identity::from_address(const IpAddress& a) {
    Identity id;
    id.type = a.is_v4() ? IdType::kIpv4Addr : IdType::kIpv6Addr;
    id.data.assign(a.bytes().begin(), a.bytes().end());
    return id;
}

Identity Identity::from_payload(const wire::IdPayload& p) {
    return Identity{p.id_type, p.data, false};
}

wire::IdPayload Identity::to_payload() const {
    return wire::IdPayload{type, data};
}

bool Identity::matches(const Identity& received) const {
    if (any) {
        return true;
    }
    if (type != received.type) {
        return false;
    }
    if (type == IdType::kFqdn || type == IdType::kRfc822Addr) {
        return iequal(data, received.data);
    }
    return data == received.data;
}

std::string Identity::to_string() const {
    if (any) {
        return "%any";
    }
    switch (type) {
        case IdType::kIpv4Addr:
        case IdType::kIpv6Addr: {
            auto ip = IpAddress::from_bytes(data);
            return ip ? ip->to_string() : "(invalid address)";
        }
        case IdType::kFqdn:
        case IdType::kRfc822Addr:
            return {data.begin(), data.end()};
        case IdType::kDerAsn1Dn: {
            auto s = crypto::dn_to_string(data);
            return s ? *s : "(invalid DN)";
        }
        case IdType::kKeyId:
            return "@#" + to_hex(data);
        default:
            return fmt::format("{}:{}", static_cast<int>(type), to_hex(data));
    }
}

bool certificate_names(const crypto::Certificate& c, wire::IdType type, ByteView data) {
    switch (type) {
        case wire::IdType::kDerAsn1Dn:
            return c.names(crypto::NameKind::kDistinguishedName, data);
        case wire::IdType::kFqdn:
            return c.names(crypto::NameKind::kDns, data);
        case wire::IdType::kRfc822Addr:
            return c.names(crypto::NameKind::kEmail, data);
        case wire::IdType::kIpv4Addr:
        case wire::IdType::kIpv6Addr:
            return c.names(crypto::NameKind::kIpAddress, data);
        default:
            return false;
    }
}

}  // namespace ikeplex::ike
