#include "ike/eap_conversation.h"

#include <algorithm>
#include <cctype>

#include "util/log.h"

namespace ikeplex::ike {
namespace {

/// The types `auth = eap` offers or accepts, in strongSwan-like order of preference.
constexpr eap::Type kAnyOrder[] = {eap::Type::kMschapv2, eap::Type::kTls, eap::Type::kMd5};

Result<eap::Packet> to_packet(const wire::EapPayload& in) {
    eap::Packet p;
    p.code = static_cast<eap::Code>(in.code);
    p.identifier = in.identifier;
    const bool typed = in.code == wire::EapCode::kRequest || in.code == wire::EapCode::kResponse;
    if (typed) {
        if (in.data.empty()) {
            return make_error(Errc::kInvalidSyntax, "EAP request or response without a type");
        }
        p.type = static_cast<eap::Type>(in.data.front());
        p.type_data.assign(in.data.begin() + 1, in.data.end());
    } else if (!in.data.empty()) {
        return make_error(Errc::kInvalidSyntax, "EAP success or failure with data");
    }
    return p;
}

wire::EapPayload to_payload(const eap::Packet& p) {
    wire::EapPayload out;
    out.code = static_cast<wire::EapCode>(p.code);
    out.identifier = p.identifier;
    if (p.code == eap::Code::kRequest || p.code == eap::Code::kResponse) {
        out.data.push_back(static_cast<std::uint8_t>(p.type));
        out.data.insert(out.data.end(), p.type_data.begin(), p.type_data.end());
    }
    return out;
}

/// An identity as EAP carries it: the text of the identity (no "@" prefix for names).
std::string identity_text(const Identity& id) {
    return id.to_string();
}

Identity identity_of(std::string_view text) {
    auto id = Identity::parse(text);
    return id ? *id : Identity{};
}

const eap::Msk& empty_msk() {
    static const eap::Msk none;
    return none;
}

}  // namespace

/// An EAP identity a peer sent: 1..253 printable characters (RFC 3748 §5.1 allows any
/// UTF-8; control characters would end up in logs and in list-sas).
bool usable_identity(ByteView data) {
    return !data.empty() && data.size() <= 253 &&
           std::none_of(data.begin(), data.end(), [](std::uint8_t c) { return c < 0x20; });
}

std::string eap_type_name(std::uint8_t type) {
    std::string n = eap::to_string(static_cast<eap::Type>(type));
    if (n.starts_with("type ")) {
        return "EAP_TYPE_" + n.substr(5);
    }
    std::transform(n.begin(), n.end(), n.begin(),
                   [](char c) { return static_cast<char>(std::toupper(c)); });
    return "EAP_" + n;
}

bool eap_mutual(eap::Type t) {
    // As strongSwan 5.9.8: only a method that authenticates the server with its own credential
    // and derives an MSK may replace the server's AUTH. MSCHAPv2's authenticator response proves
    // only knowledge of the user's password hash, which strongSwan does not count as mutual
    // ("EAP-only authentication requires a mutual and MSK deriving EAP method").
    return t == eap::Type::kTls;
}

// ----------------------------------------------------------------------------- peer

EapPeerSide::EapPeerSide(const Services& services, const PeerConfig& cfg, Identity ike_id,
                         Identity server_id, std::string label)
    : services_(services),
      cfg_(cfg),
      ike_id_(std::move(ike_id)),
      server_id_(std::move(server_id)),
      label_(std::move(label)),
      identity_(identity_text(
              cfg.local.eap_id && !cfg.local.eap_id->data.empty() ? *cfg.local.eap_id : ike_id_)) {}

const eap::Msk& EapPeerSide::msk() const {
    return method_ ? method_->msk() : empty_msk();
}

EapPeerSide::Reply EapPeerSide::fail(std::string why) {
    Reply r;
    r.kind = Reply::Kind::kFailed;
    r.reason = std::move(why);
    return r;
}

EapPeerSide::Reply EapPeerSide::respond(const eap::Packet& p) {
    Reply r;
    r.kind = Reply::Kind::kRespond;
    r.response = to_payload(p);
    return r;
}

EapPeerSide::Reply EapPeerSide::on_payload(const wire::EapPayload& in, std::int64_t unix_time) {
    unix_time_ = unix_time;
    auto pkt = to_packet(in);
    if (!pkt) {
        return fail(pkt.error().detail);
    }
    switch (pkt->code) {
        case eap::Code::kRequest:
            if (++rounds_ > services_.settings.max_eap_rounds) {
                return fail("too many EAP rounds");
            }
            return on_request(*pkt);
        case eap::Code::kSuccess:
            if (!method_ || !method_->may_succeed()) {
                // RFC 3748 §4.2: a success the method has not reached is not believed.
                return fail("received EAP_SUCCESS before the EAP method completed");
            }
            return Reply{Reply::Kind::kSucceeded, {}, {}};
        case eap::Code::kFailure:
            return fail("received EAP_FAILURE");
        case eap::Code::kResponse:
            break;
    }
    return fail("received an EAP response from the server");
}

EapPeerSide::Reply EapPeerSide::on_request(const eap::Packet& req) {
    eap::Packet resp{eap::Code::kResponse, req.identifier, req.type, {}};
    switch (req.type) {
        case eap::Type::kIdentity:
            log::info(log::Subsystem::kIke,
                      "{} server requested EAP_IDENTITY (id 0x{:02X}), sending '{}'", label_,
                      req.identifier, identity_);
            resp.type_data.assign(identity_.begin(), identity_.end());
            return respond(resp);
        case eap::Type::kNotification:
            return respond(resp);  // RFC 3748 §5.2: an empty response
        case eap::Type::kNak:
            return fail("received an EAP_NAK request");
        default:
            break;
    }
    if (!method_) {
        return start_method(req);
    }
    if (req.type != type_) {
        return fail("server switched EAP methods");
    }
    return answer(method_->process(req));
}

EapPeerSide::Reply EapPeerSide::answer(const Result<eap::PeerStep>& step) {
    if (!step) {
        return fail(step.error().detail);
    }
    if (step->kind == eap::PeerStep::Kind::kFailure) {
        return fail(step->reason.empty() ? "EAP method failed" : step->reason);
    }
    return respond(step->response);
}

EapPeerSide::Reply EapPeerSide::start_method(const eap::Packet& req) {
    const auto make = [&](eap::Type t) {
        eap::PeerContext ctx;
        ctx.identity = identity_;
        ctx.secret = services_.credentials.find_eap(identity_of(identity_), server_id_);
        if (const Credentials::Own* own = services_.credentials.find_own(ike_id_)) {
            ctx.own_cert = &own->cert;
            ctx.own_key = &own->key;
        }
        ctx.trusted = &services_.credentials.cas;
        // EAP-TLS: the server certificate must name the AAA server (`remote.aaa_id`), else the
        // gateway's IKE identity (matched against `remote.id` already); without this, with
        // EAP-only any certificate of a trusted CA would authenticate the gateway.
        const auto& aaa = cfg_.remote.aaa_id;
        ctx.server_name = identity_text(aaa && !aaa->any && !aaa->data.empty() ? *aaa : server_id_);
        ctx.unix_time = unix_time_;
        ctx.random = &services_.random;
        return services_.eap.peer ? services_.eap.peer(t, std::move(ctx))
                                  : eap::make_peer(t, std::move(ctx));
    };
    const auto wanted = cfg_.local.eap_type;
    log::info(log::Subsystem::kIke, "{} server requested {} authentication (id 0x{:02X})", label_,
              eap_type_name(static_cast<std::uint8_t>(req.type)), req.identifier);
    if (wanted == 0 || wanted == static_cast<std::uint8_t>(req.type)) {
        if (auto m = make(req.type)) {
            method_ = std::move(*m);
            type_ = req.type;
            return answer(method_->process(req));
        }
    }
    // RFC 3748 §5.3.1: a Nak naming the types we would take (0: none).
    eap::Packet nak{eap::Code::kResponse, req.identifier, eap::Type::kNak, {}};
    if (wanted != 0) {
        nak.type_data.push_back(wanted);
    } else {
        for (eap::Type t : kAnyOrder) {
            if (t != req.type && make(t)) {
                nak.type_data.push_back(static_cast<std::uint8_t>(t));
            }
        }
    }
    if (nak.type_data.empty()) {
        nak.type_data.push_back(0);
    }
    log::info(log::Subsystem::kIke, "{} {} not supported, sending EAP_NAK", label_,
              eap_type_name(static_cast<std::uint8_t>(req.type)));
    return respond(nak);
}

// ----------------------------------------------------------------------------- server

EapServerSide::EapServerSide(const Services& services, const PeerConfig& cfg, Identity peer_ike_id,
                             Identity own_id, std::uint8_t first_identifier, std::string label)
    : services_(services),
      cfg_(cfg),
      peer_ike_id_(std::move(peer_ike_id)),
      own_id_(std::move(own_id)),
      label_(std::move(label)),
      next_id_(first_identifier) {}

const eap::Msk& EapServerSide::msk() const {
    return method_ ? method_->msk() : empty_msk();
}

EapServerSide::Reply EapServerSide::fail(std::string why) {
    Reply r;
    r.kind = Reply::Kind::kFailure;
    r.packet = wire::EapPayload{wire::EapCode::kFailure, last_id_, {}};
    r.reason = std::move(why);
    return r;
}

EapServerSide::Reply EapServerSide::request(const eap::Packet& p) {
    last_id_ = p.identifier;
    Reply r;
    r.kind = Reply::Kind::kRequest;
    r.packet = to_payload(p);
    return r;
}

std::vector<eap::Type> EapServerSide::offers() const {
    if (cfg_.remote.eap_type != 0) {
        return {static_cast<eap::Type>(cfg_.remote.eap_type)};
    }
    return {std::begin(kAnyOrder), std::end(kAnyOrder)};
}

EapServerSide::Reply EapServerSide::start(std::int64_t unix_time) {
    const auto& want = cfg_.remote.eap_id;
    if (want && want->any) {
        const std::uint8_t id = next_id_++;
        log::info(log::Subsystem::kIke, "{} initiating EAP_IDENTITY method (id 0x{:02X})", label_,
                  id);
        return request(eap::Packet{eap::Code::kRequest, id, eap::Type::kIdentity, {}});
    }
    identity_ = identity_text(want ? *want : peer_ike_id_);
    for (eap::Type t : offers()) {
        Reply r = start_method(t, unix_time);
        if (r.kind == Reply::Kind::kRequest || cfg_.remote.eap_type != 0) {
            return r;
        }
    }
    return fail("no EAP method available");
}

EapServerSide::Reply EapServerSide::start_method(eap::Type t, std::int64_t unix_time) {
    eap::ServerContext ctx;
    const Credentials* creds = &services_.credentials;
    ctx.find_secret = [creds, own = own_id_](std::string_view peer) {
        return creds->find_eap(own, identity_of(peer));
    };
    if (const Credentials::Own* own = creds->find_own(own_id_)) {
        ctx.own_cert = &own->cert;
        ctx.own_key = &own->key;
    }
    ctx.trusted = &creds->cas;
    ctx.unix_time = unix_time;
    ctx.random = &services_.random;
    auto m = services_.eap.server ? services_.eap.server(t, std::move(ctx))
                                  : eap::make_server(t, std::move(ctx));
    if (!m) {
        return fail(eap_type_name(static_cast<std::uint8_t>(t)) + " not supported as server");
    }
    const std::uint8_t id = next_id_++;
    auto first = (*m)->initiate(id, identity_);
    if (!first) {
        return fail(first.error().detail);
    }
    method_ = std::move(*m);
    type_ = t;
    method_answered_ = false;
    log::info(log::Subsystem::kIke, "{} initiating {} method (id 0x{:02X})", label_,
              eap_type_name(static_cast<std::uint8_t>(t)), first->identifier);
    return request(*first);
}

EapServerSide::Reply EapServerSide::on_payload(const wire::EapPayload& in, std::int64_t unix_time) {
    if (++rounds_ > services_.settings.max_eap_rounds) {
        return fail("too many EAP rounds");
    }
    auto pkt = to_packet(in);
    if (!pkt) {
        return fail(pkt.error().detail);
    }
    if (pkt->code != eap::Code::kResponse) {
        return fail("expected an EAP response");
    }
    if (pkt->identifier != last_id_) {
        return fail("EAP response with the wrong identifier");
    }
    if (!method_) {
        if (pkt->type != eap::Type::kIdentity || !usable_identity(pkt->type_data)) {
            return fail("expected an EAP identity");
        }
        identity_.assign(pkt->type_data.begin(), pkt->type_data.end());
        log::info(log::Subsystem::kIke, "{} received EAP identity '{}'", label_, identity_);
        for (eap::Type t : offers()) {
            Reply r = start_method(t, unix_time);
            if (r.kind == Reply::Kind::kRequest || cfg_.remote.eap_type != 0) {
                return r;
            }
        }
        return fail("no EAP method available");
    }
    if (pkt->type == eap::Type::kNak) {
        return on_nak(*pkt, unix_time);
    }
    if (pkt->type != type_) {
        return fail("EAP response of another method");
    }
    const std::uint8_t id = next_id_++;
    auto step = method_->process(*pkt, id);
    method_answered_ = true;
    if (!step) {
        return fail(step.error().detail);
    }
    switch (step->kind) {
        case eap::ServerStep::Kind::kRequest:
            return request(step->request);
        case eap::ServerStep::Kind::kSuccess: {
            if (std::string who = method_->authenticated_identity(); !who.empty()) {
                identity_ = std::move(who);
            }
            Reply r;
            r.kind = Reply::Kind::kSuccess;
            r.packet = wire::EapPayload{wire::EapCode::kSuccess, pkt->identifier, {}};
            return r;
        }
        case eap::ServerStep::Kind::kFailure:
            last_id_ = pkt->identifier;
            return fail(step->reason.empty() ? "EAP method failed" : step->reason);
    }
    return fail("EAP method failed");
}

EapServerSide::Reply EapServerSide::on_nak(const eap::Packet& nak, std::int64_t unix_time) {
    if (method_answered_) {
        return fail("EAP_NAK in the middle of a method");
    }
    const std::vector<eap::Type> ours = offers();
    for (std::uint8_t t : nak.type_data) {
        const auto type = static_cast<eap::Type>(t);
        if (type == type_ || std::find(ours.begin(), ours.end(), type) == ours.end()) {
            continue;
        }
        log::info(log::Subsystem::kIke, "{} received EAP_NAK, peer asks for {}", label_,
                  eap_type_name(t));
        Reply r = start_method(type, unix_time);
        if (r.kind == Reply::Kind::kRequest) {
            return r;
        }
    }
    last_id_ = nak.identifier;
    return fail("peer refused " + eap_type_name(static_cast<std::uint8_t>(type_)) +
                " (EAP_NAK) and asks for nothing we offer");
}

}  // namespace ikeplex::ike
