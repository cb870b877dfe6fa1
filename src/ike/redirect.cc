// RFC 5685 in the exchanges (redirect.h); the manager's half is manager_redirect.cc.
#include "ike/redirect.h"

#include <algorithm>
#include <utility>

#include <fnmatch.h>

#include "ike/exchanges.h"
#include "ike/payload_access.h"
#include "util/log.h"

namespace ikeplex::ike {

using wire::NotifyType;
using wire::Payload;

namespace {

bool fqdn_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

bool valid_fqdn(std::string_view s) noexcept {
    return !s.empty() && s.size() <= 255 && std::all_of(s.begin(), s.end(), fqdn_char) &&
           s.front() != '.' && s.front() != '-';
}

/// Whether we announced support in IKE_SA_INIT (a REDIRECT is only for those who did).
bool we_announced(const IkeSa& sa) {
    return sa.is_original_initiator() && sa.services().settings.follow_redirects;
}

/// The REDIRECT notify of a message, decoded; nothing (logged) without one or if malformed.
/// `nonce`: whether it must carry nonce data (IKE_SA_INIT) or must not (the others).
std::optional<RedirectData> redirect_of(const IkeSa& sa, std::span<const Payload> ps, bool nonce,
                                        const char* where) {
    const auto* n = find_notify(ps, NotifyType::kRedirect);
    if (n == nullptr) {
        return std::nullopt;
    }
    auto data = decode_gateway(n->data);
    if (!data) {
        IKE_LOG(info, sa, "ignoring malformed REDIRECT in {}: {}", where, data.error().detail);
        return std::nullopt;
    }
    if (data->nonce.empty() == nonce) {
        IKE_LOG(info, sa, "ignoring REDIRECT in {}: nonce data {}", where,
                nonce ? "missing" : "not allowed here (RFC 5685 §9.2)");
        return std::nullopt;
    }
    return std::move(*data);
}

/// Records where the connection goes once this IKE SA is gone.
void set_target(IkeSa& sa, const Gateway& gw, std::vector<std::string> children,
                const char* where) {
    auto& st = sa.states().get<RedirectState>();
    st.target = gw;
    st.children = std::move(children);
    IKE_LOG(info, sa, "redirected to gateway {} in {} (RFC 5685)", gw.to_string(), where);
}

class Redirect final : public Exchange {
public:
    explicit Redirect(Gateway gw) : gw_(std::move(gw)) {}
    [[nodiscard]] wire::ExchangeType type() const noexcept override {
        return wire::ExchangeType::kInformational;
    }
    [[nodiscard]] const char* name() const noexcept override { return "REDIRECT"; }
    Result<std::vector<Payload>> build(IkeSa& sa, Step& /*step*/) override {
        IKE_LOG(info, sa, "redirecting peer to gateway {}", gw_.to_string());
        std::vector<Payload> out;
        out.push_back(wire::make_notify(NotifyType::kRedirect, encode_gateway(gw_)));
        return out;
    }
    Outcome process(IkeSa& sa, const wire::Header& /*h*/, std::vector<Payload>& /*resp*/,
                    Step& /*step*/) override {
        IKE_LOG(info, sa, "peer acknowledged the REDIRECT to {}", gw_.to_string());
        return Outcome::kDone;
    }

private:
    Gateway gw_;
};

}  // namespace

std::optional<Gateway> Gateway::parse(std::string_view text) {
    if (auto a = IpAddress::parse(text)) {
        return Gateway{*a, {}};
    }
    if (!valid_fqdn(text)) {
        return std::nullopt;
    }
    return Gateway{std::nullopt, std::string(text)};
}

std::string Gateway::to_string() const {
    return address ? fmt::format("{}", *address) : fqdn;
}

std::optional<AddressPrefix> AddressPrefix::parse(std::string_view text) {
    const std::size_t slash = text.find('/');
    auto a = IpAddress::parse(text.substr(0, slash));
    if (!a) {
        return std::nullopt;
    }
    const unsigned max = a->is_v4() ? 32 : 128;
    unsigned length = max;
    if (slash != std::string_view::npos) {
        const std::string_view l = text.substr(slash + 1);
        if (l.empty() || l.size() > 3) {
            return std::nullopt;
        }
        length = 0;
        for (const char c : l) {
            if (c < '0' || c > '9') {
                return std::nullopt;
            }
            length = length * 10 + static_cast<unsigned>(c - '0');
        }
        if (length > max) {
            return std::nullopt;
        }
    }
    return AddressPrefix{*a, static_cast<std::uint8_t>(length)};
}

bool AddressPrefix::contains(const IpAddress& a) const noexcept {
    if (a.family() != address.family()) {
        return false;
    }
    const ByteView x = a.bytes();
    const ByteView y = address.bytes();
    for (unsigned bit = 0; bit < length; ++bit) {
        const unsigned byte = bit / 8;
        const auto mask = static_cast<std::uint8_t>(0x80U >> (bit % 8));
        if ((x[byte] & mask) != (y[byte] & mask)) {
            return false;
        }
    }
    return true;
}

Bytes encode_gateway(const Gateway& gw, ByteView nonce) {
    Bytes out;
    if (gw.address) {
        const ByteView b = gw.address->bytes();
        out.push_back(
                static_cast<std::uint8_t>(gw.address->is_v4() ? GwType::kIpv4 : GwType::kIpv6));
        out.push_back(static_cast<std::uint8_t>(b.size()));
        out.insert(out.end(), b.begin(), b.end());
    } else {
        out.push_back(static_cast<std::uint8_t>(GwType::kFqdn));
        out.push_back(static_cast<std::uint8_t>(gw.fqdn.size()));
        out.insert(out.end(), gw.fqdn.begin(), gw.fqdn.end());
    }
    out.insert(out.end(), nonce.begin(), nonce.end());
    return out;
}

Result<RedirectData> decode_gateway(ByteView data) {
    if (data.size() < 2) {
        return make_error(Errc::kTruncated, "REDIRECT: no GW identity type and length");
    }
    const std::uint8_t type = data[0];
    const std::size_t len = data[1];
    if (data.size() < 2 + len) {
        return make_error(Errc::kBadLength, "REDIRECT: GW identity longer than the notify");
    }
    const ByteView id = data.subspan(2, len);
    RedirectData out;
    switch (static_cast<GwType>(type)) {
        case GwType::kIpv4:
        case GwType::kIpv6: {
            if (len != (type == 1 ? 4U : 16U)) {
                return make_error(Errc::kBadLength, "REDIRECT: address of the wrong length");
            }
            out.gateway.address = IpAddress::from_bytes(id).value();
            break;
        }
        case GwType::kFqdn: {
            std::string fqdn(id.begin(), id.end());
            if (!valid_fqdn(fqdn)) {
                return make_error(Errc::kInvalidSyntax, "REDIRECT: the FQDN is not a host name");
            }
            out.gateway.fqdn = std::move(fqdn);
            break;
        }
        default:
            return make_error(Errc::kInvalidSyntax, "REDIRECT: unknown GW identity type");
    }
    const ByteView nonce = data.subspan(2 + len);
    if (!nonce.empty() && (nonce.size() < 16 || nonce.size() > 256)) {
        return make_error(Errc::kBadLength, "REDIRECT: nonce data not of 16 to 256 bytes");
    }
    out.nonce.assign(nonce.begin(), nonce.end());
    return out;
}

const RedirectRule* match_redirect(const std::vector<RedirectRule>& rules, bool in_auth,
                                   const IpAddress& peer, const std::string* peer_id,
                                   std::size_t established) {
    for (const RedirectRule& r : rules) {
        if (r.remote_id.empty() == in_auth) {
            continue;  // IKE_SA_INIT rules have no remote_id, IKE_AUTH rules have one
        }
        if (!r.remote_addrs.empty() &&
            std::none_of(r.remote_addrs.begin(), r.remote_addrs.end(),
                         [&](const AddressPrefix& p) { return p.contains(peer); })) {
            continue;
        }
        if (r.established_above && established <= *r.established_above) {
            continue;
        }
        if (in_auth && (peer_id == nullptr ||
                        std::none_of(r.remote_id.begin(), r.remote_id.end(), [&](const auto& p) {
                            return fnmatch(p.c_str(), peer_id->c_str(), FNM_CASEFOLD) == 0;
                        }))) {
            continue;
        }
        return &r;
    }
    return nullptr;
}

void append_redirect_support(IkeSa& sa, std::vector<Payload>& out) {
    if (!sa.services().settings.follow_redirects) {
        return;
    }
    const auto* st = sa.states().find<RedirectState>();
    if (st != nullptr && st->redirected_from) {
        out.push_back(wire::make_notify(NotifyType::kRedirectedFrom,
                                        encode_gateway(Gateway{st->redirected_from, {}})));
    } else {
        out.push_back(wire::make_notify(NotifyType::kRedirectSupported));
    }
}

bool init_redirect_acceptable(IkeSa& sa, std::span<const Payload> response) {
    if (!has_notify(response, NotifyType::kRedirect)) {
        return true;
    }
    if (!we_announced(sa)) {
        IKE_LOG(info, sa,
                "dropping IKE_SA_INIT response with REDIRECT: we did not announce "
                "REDIRECT_SUPPORTED");
        return false;
    }
    auto data = redirect_of(sa, response, true, "IKE_SA_INIT");
    if (!data) {
        return false;
    }
    if (data->nonce != sa.handshake().ni) {
        // RFC 5685 §3: silently discarded; the real response may still come.
        IKE_LOG(info, sa,
                "dropping IKE_SA_INIT response with REDIRECT: its nonce data is not "
                "our Ni");
        return false;
    }
    return true;
}

bool follow_init_redirect(IkeSa& sa, std::span<const Payload> response, Step& step) {
    if (!has_notify(response, NotifyType::kRedirect)) {
        return false;
    }
    auto data = redirect_of(sa, response, true, "IKE_SA_INIT");
    if (!data) {
        return false;  // init_redirect_acceptable() let no such response through
    }
    set_target(sa, data->gateway, {}, "IKE_SA_INIT");
    sa.destroy("redirected", step);
    return true;
}

bool follow_auth_redirect(IkeSa& sa, std::span<const Payload> response, const ChildConfig* child,
                          Step& step) {
    if (!has_notify(response, NotifyType::kRedirect)) {
        return false;
    }
    if (!we_announced(sa)) {
        IKE_LOG(info, sa, "ignoring REDIRECT in IKE_AUTH: we did not announce REDIRECT_SUPPORTED");
        return false;
    }
    auto data = redirect_of(sa, response, false, "IKE_AUTH");
    if (!data) {
        return false;
    }
    std::vector<std::string> children;
    if (child != nullptr) {
        children.push_back(child->name);
    }
    set_target(sa, data->gateway, std::move(children), "IKE_AUTH");
    sa.delete_ike("redirected", step);
    return true;
}

void on_informational_redirect(IkeSa& sa, std::span<const Payload> request, Step& step) {
    if (!has_notify(request, NotifyType::kRedirect)) {
        return;
    }
    if (!sa.is_original_initiator()) {
        IKE_LOG(info, sa,
                "ignoring REDIRECT from the original initiator (RFC 5685 §10: only "
                "the original responder redirects)");
        return;
    }
    if (!we_announced(sa)) {
        IKE_LOG(info, sa, "ignoring REDIRECT: we did not announce REDIRECT_SUPPORTED");
        return;
    }
    if (sa.state() != IkeState::kEstablished) {
        IKE_LOG(info, sa, "ignoring REDIRECT: the IKE_SA is {}", to_string(sa.state()));
        return;
    }
    auto data = redirect_of(sa, request, false, "INFORMATIONAL");
    if (!data) {
        return;
    }
    std::vector<std::string> children;
    for (const auto& c : sa.children()) {
        if (c->config != nullptr && c->state != ChildState::kRekeyed &&
            std::find(children.begin(), children.end(), c->config->name) == children.end()) {
            children.push_back(c->config->name);
        }
    }
    set_target(sa, data->gateway, std::move(children), "INFORMATIONAL");
    sa.delete_ike("redirected", step);
}

void note_redirect_support(IkeSa& sa, std::span<const Payload> request) {
    if (has_notify(request, NotifyType::kRedirectSupported) ||
        has_notify(request, NotifyType::kRedirectedFrom)) {
        sa.states().get<RedirectState>().peer_supported = true;
    }
}

bool redirect_in_auth(IkeSa& sa, std::vector<Payload>& out, Step& step) {
    const auto& rules = sa.services().settings.redirect_rules;
    const auto* st = sa.states().find<RedirectState>();
    if (rules.empty() || st == nullptr || !st->peer_supported) {
        return false;
    }
    const std::string id = sa.remote_id().to_string();
    const RedirectRule* rule =
            match_redirect(rules, true, sa.remote().address, &id, sa.registry().established_sas());
    if (rule == nullptr || rule->gateway.address == sa.local().address) {
        return false;
    }
    PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
             "{} redirecting '{}' to gateway {} in IKE_AUTH (rule {})", sa.label(), id,
             rule->gateway.to_string(), rule->name);
    out.push_back(wire::make_notify(NotifyType::kRedirect, encode_gateway(rule->gateway)));
    return true;
}

ExchangePtr make_redirect(const Gateway& gw) {
    return std::make_unique<Redirect>(gw);
}

}  // namespace ikeplex::ike
