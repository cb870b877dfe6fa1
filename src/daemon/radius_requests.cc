// The RADIUS client's packets: what an Access-Request and an Accounting-Request carry, and
// what an authenticated reply gives the caller (radius_client.h).
#include "daemon/radius_client.h"
#include "radius/security.h"

namespace ikeplex::daemon {

namespace {

using radius::Packet;
namespace attr = radius::attr;

void add_nas_address(Packet& p, const Endpoint& nas) {
    if (nas.address.is_v4()) {
        (void)p.add(attr::kNasIpAddress, nas.address.bytes());
    } else if (nas.address.is_set()) {
        (void)p.add(attr::kNasIpv6Address, nas.address.bytes());
    }
}

/// Called-/Calling-Station-Id: "10.0.0.1[4500]" as strongSwan's %#H prints an endpoint.
void add_station(Packet& p, std::uint8_t type, const Endpoint& e) {
    if (e.address.is_set()) {
        (void)p.add_string(type, e.to_string());
    }
}

}  // namespace

Packet build_access_request(const RadiusAuthRequest& r, const std::string& nas_identifier) {
    Packet p;
    p.code = radius::Code::kAccessRequest;
    if (!r.user.empty()) {
        (void)p.add_string(attr::kUserName, r.user.substr(0, radius::kMaxValue));
    }
    p.add_u32(attr::kNasPortType, radius::kNasPortTypeVirtual);
    p.add_u32(attr::kServiceType, radius::kServiceTypeFramed);
    p.add_u32(attr::kNasPort, r.nas_port);
    if (!r.nas_port_id.empty()) {
        (void)p.add_string(attr::kNasPortId, r.nas_port_id.substr(0, radius::kMaxValue));
    }
    add_nas_address(p, r.nas);
    add_station(p, attr::kCalledStationId, r.nas);
    add_station(p, attr::kCallingStationId, r.peer);
    radius::add_eap_message(p, r.eap);
    if (!nas_identifier.empty()) {
        (void)p.add_string(attr::kNasIdentifier, nas_identifier.substr(0, radius::kMaxValue));
    }
    if (!r.state.empty()) {
        (void)p.add(attr::kState,
                    ByteView(r.state).first(std::min(r.state.size(), radius::kMaxValue)));
    }
    return p;
}

Packet build_accounting_request(radius::AcctStatus status, const RadiusSession& s,
                                const std::string& nas_identifier) {
    Packet p;
    p.code = radius::Code::kAccountingRequest;
    p.add_u32(attr::kAcctStatusType, static_cast<std::uint32_t>(status));
    (void)p.add_string(attr::kAcctSessionId, s.session_id.substr(0, radius::kMaxValue));
    if (!s.user.empty()) {
        (void)p.add_string(attr::kUserName, s.user.substr(0, radius::kMaxValue));
    }
    p.add_u32(attr::kNasPortType, radius::kNasPortTypeVirtual);
    p.add_u32(attr::kServiceType, radius::kServiceTypeFramed);
    p.add_u32(attr::kNasPort, s.nas_port);
    add_nas_address(p, s.nas);
    add_station(p, attr::kCalledStationId, s.nas);
    add_station(p, attr::kCallingStationId, s.peer);
    if (s.framed_ip && s.framed_ip->is_v4()) {
        (void)p.add_ipv4(attr::kFramedIpAddress, *s.framed_ip);
    }
    if (status != radius::AcctStatus::kStart) {
        const auto low = [](std::uint64_t v) { return static_cast<std::uint32_t>(v); };
        const auto high = [](std::uint64_t v) { return static_cast<std::uint32_t>(v >> 32U); };
        p.add_u32(attr::kAcctInputOctets, low(s.input_octets));
        p.add_u32(attr::kAcctOutputOctets, low(s.output_octets));
        if (high(s.input_octets) != 0) {
            p.add_u32(attr::kAcctInputGigawords, high(s.input_octets));
        }
        if (high(s.output_octets) != 0) {
            p.add_u32(attr::kAcctOutputGigawords, high(s.output_octets));
        }
        p.add_u32(attr::kAcctInputPackets, low(s.input_packets));
        p.add_u32(attr::kAcctOutputPackets, low(s.output_packets));
        p.add_u32(attr::kAcctSessionTime, s.session_time);
    }
    if (status == radius::AcctStatus::kStop && s.terminate_cause != 0) {
        p.add_u32(attr::kAcctTerminateCause, s.terminate_cause);
    }
    for (const Bytes& c : s.classes) {
        (void)p.add(attr::kClass, ByteView(c).first(std::min(c.size(), radius::kMaxValue)));
    }
    if (!nas_identifier.empty()) {
        (void)p.add_string(attr::kNasIdentifier, nas_identifier.substr(0, radius::kMaxValue));
    }
    return p;
}

Result<RadiusAuthReply> read_auth_reply(const radius::Packet& reply,
                                        const radius::Authenticator& request_auth,
                                        ByteView secret) {
    RadiusAuthReply out;
    out.code = reply.code;
    out.eap = radius::eap_message(reply);
    if (const radius::Attribute* st = reply.find(attr::kState)) {
        out.state = st->value;
    }
    if (reply.code == radius::Code::kAccessChallenge && out.eap.empty()) {
        return make_error(Errc::kInvalidSyntax, "RADIUS: Access-Challenge without EAP-Message");
    }
    if (reply.code != radius::Code::kAccessAccept) {
        return out;
    }
    for (const radius::Attribute& a : reply.attributes) {
        if (a.type == attr::kFramedIpAddress) {
            out.framed_ip = IKEPLEX_TRY(radius::value_ipv4(a));
        } else if (a.type == attr::kSessionTimeout) {
            out.session_timeout = IKEPLEX_TRY(radius::value_u32(a));
        } else if (a.type == attr::kAcctInterimInterval) {
            out.interim_interval = IKEPLEX_TRY(radius::value_u32(a));
        } else if (a.type == attr::kClass) {
            out.classes.push_back(a.value);
        }
    }
    auto msk = radius::msk_from_reply(reply, request_auth, secret);
    if (msk) {
        out.msk = std::move(*msk);
    } else if (msk.error().code != Errc::kNotFound) {
        return msk.error();
    }
    return out;
}

}  // namespace ikeplex::daemon
