// MOBIKE (RFC 4555), the side that moves: IKE_AUTH's notifies (§3.2, §3.4), the choice of a new
// path when the host's addresses change (§3.5), and the UPDATE_SA_ADDRESSES exchange with its
// COOKIE2 (§3.7) and NAT detection (§3.8). The responder's side is in mobike_responder.cc.
#include "ike/mobike.h"

#include <algorithm>

#include "ike/exchanges.h"
#include "ike/payload_access.h"
#include "util/log.h"
#include "wire/names.h"

namespace ikeplex::ike {

using wire::NotifyType;
using wire::Payload;

Result<MobikeNotifies> parse_mobike(std::span<const Payload> ps) {
    MobikeNotifies m;
    for (const Payload& p : ps) {
        const auto* n = p.as<wire::NotifyPayload>();
        if (n == nullptr) {
            continue;
        }
        switch (n->type) {
            case NotifyType::kMobikeSupported:
                m.supported = true;  // data ignored (§4.2.1)
                break;
            case NotifyType::kUpdateSaAddresses:
                m.update = true;
                break;
            case NotifyType::kNoAdditionalAddresses:
                m.no_additional = true;
                break;
            case NotifyType::kNoNatsAllowed:
                m.no_nats = true;
                break;
            case NotifyType::kCookie2:
                if (m.cookie2) {
                    return make_error(Errc::kInvalidSyntax, "MOBIKE: more than one COOKIE2");
                }
                if (n->data.size() < 8 || n->data.size() > 64) {
                    return make_error(Errc::kInvalidSyntax,
                                      "MOBIKE: COOKIE2 not between 8 and 64 octets");
                }
                m.cookie2 = n->data;
                break;
            case NotifyType::kAdditionalIp4Address:
            case NotifyType::kAdditionalIp6Address: {
                const std::size_t want = n->type == NotifyType::kAdditionalIp4Address ? 4 : 16;
                if (n->data.size() != want) {
                    return make_error(Errc::kInvalidSyntax,
                                      "MOBIKE: ADDITIONAL_IP4/6_ADDRESS of the wrong length");
                }
                if (m.additional.size() >= kMaxAdditionalAddresses) {
                    return make_error(Errc::kInvalidSyntax,
                                      "MOBIKE: too many additional addresses");
                }
                m.additional.push_back(IKEPLEX_TRY(IpAddress::from_bytes(n->data)));
                break;
            }
            case NotifyType::kNatDetectionSourceIp:
                m.natd_src.push_back(&n->data);
                break;
            case NotifyType::kNatDetectionDestinationIp:
                m.natd_dst = &n->data;
                break;
            default:
                break;
        }
    }
    if (m.no_additional && !m.additional.empty()) {
        return make_error(Errc::kInvalidSyntax,
                          "MOBIKE: NO_ADDITIONAL_ADDRESSES with additional addresses");
    }
    return m;
}

void append_additional_addresses(const IkeSa& sa, const IpAddress& from,
                                 std::vector<Payload>& out) {
    std::size_t n = 0;
    if (const auto* own = sa.services().local_addresses) {
        for (const IpAddress& a : *own) {
            if (a == from || !a.is_set() || n == kMaxAdditionalAddresses) {
                continue;
            }
            out.push_back(wire::make_notify(a.is_v4() ? NotifyType::kAdditionalIp4Address
                                                      : NotifyType::kAdditionalIp6Address,
                                            Bytes(a.bytes().begin(), a.bytes().end())));
            ++n;
        }
    }
    if (n == 0) {
        out.push_back(wire::make_notify(NotifyType::kNoAdditionalAddresses));
    }
}

void mobike_auth_payloads(const IkeSa& sa, std::vector<Payload>& out) {
    out.push_back(wire::make_notify(NotifyType::kMobikeSupported));
    // §3.4: IKE_AUTH lists only additional addresses (NO_ADDITIONAL_ADDRESSES is for
    // INFORMATIONAL requests, §3.6).
    std::vector<Payload> extra;
    append_additional_addresses(sa, sa.local().address, extra);
    if (extra.front().as<wire::NotifyPayload>()->type != NotifyType::kNoAdditionalAddresses) {
        out.insert(out.end(), std::make_move_iterator(extra.begin()),
                   std::make_move_iterator(extra.end()));
    }
}

void mobike_auth_done(IkeSa& sa, std::span<const Payload> peer, bool ours, Step& step) {
    auto notes = parse_mobike(peer);
    if (!notes) {
        sa.registry().note_mobike_refused(sa, "malformed MOBIKE notify in IKE_AUTH, ignored",
                                          step.now);
        return;
    }
    MobikeInfo& m = sa.mobike();
    m.on = ours && notes->supported;
    m.mover = sa.is_original_initiator();
    m.peer_addresses = notes->additional;
    if (m.on) {
        IKE_LOG(info, sa, "MOBIKE supported by both sides{}",
                m.peer_addresses.empty()
                        ? std::string()
                        : fmt::format(", {} additional peer address(es)", m.peer_addresses.size()));
    }
}

std::optional<std::pair<bool, bool>> mobike_nat(const IkeSa& sa, const MobikeNotifies& n,
                                                const Endpoint& local, const Endpoint& remote) {
    if (n.natd_dst == nullptr || n.natd_src.empty()) {
        return std::nullopt;
    }
    const crypto::Registry& r = sa.services().registry;
    const auto own = nat_hash(r, sa.spi_i(), sa.spi_r(), local);
    const auto peer = nat_hash(r, sa.spi_i(), sa.spi_r(), remote);
    if (!own || !peer) {
        return std::nullopt;
    }
    const bool here = *own != *n.natd_dst;
    const bool there = std::none_of(n.natd_src.begin(), n.natd_src.end(),
                                    [&](const Bytes* b) { return *b == *peer; });
    return std::make_pair(here, there);
}

namespace {

class MobikeUpdate final : public Exchange {
public:
    [[nodiscard]] wire::ExchangeType type() const noexcept override {
        return wire::ExchangeType::kInformational;
    }
    [[nodiscard]] const char* name() const noexcept override { return "MOBIKE_UPDATE"; }

    Result<std::vector<Payload>> build(IkeSa& sa, Step& /*step*/) override {
        if (!sa.mobike().on || !sa.crypto()) {
            return make_error(Errc::kState, "MOBIKE not negotiated");
        }
        generation_ = sa.mobike().generation;
        cookie2_ = sa.services().random.bytes(16);
        std::vector<Payload> out;
        out.push_back(wire::make_notify(NotifyType::kUpdateSaAddresses));
        IKEPLEX_TRY(append_natd(sa.services().registry, sa.spi_i(), sa.spi_r(), sa.local(),
                                sa.remote(), fakes_nat(sa), sa.services().random, out));
        out.push_back(wire::make_notify(NotifyType::kCookie2, cookie2_));
        append_additional_addresses(sa, sa.local().address, out);
        IKE_LOG(info, sa, "sending address update (UPDATE_SA_ADDRESSES) {} - {}", sa.local(),
                sa.remote());
        return out;
    }

    Outcome process(IkeSa& sa, const wire::Header& /*h*/, std::vector<Payload>& resp,
                    Step& step) override {
        if (sa.state() != IkeState::kEstablished && sa.state() != IkeState::kRekeying) {
            return Outcome::kDone;  // replaced by a rekey (which sends its own) or going away
        }
        auto notes = parse_mobike(resp);
        if (!notes || !notes->cookie2 || *notes->cookie2 != cookie2_) {
            // §3.7: "If the values do not match, the IKE_SA MUST be closed."
            IKE_LOG(info, sa,
                    "COOKIE2 missing or mismatched in the address update response, "
                    "closing IKE_SA");
            sa.registry().note_mobike_refused(sa, "COOKIE2 mismatch", step.now);
            sa.delete_ike("COOKIE2 mismatch", step);
            return Outcome::kDone;
        }
        if (generation_ != sa.mobike().generation) {
            // §3.5: the addresses changed again since; the newer update decides.
            IKE_LOG(info, sa, "address update answered, but a newer one follows");
            return Outcome::kDone;
        }
        sa.mobike().pending = false;
        if (const auto* err = first_error(resp)) {
            IKE_LOG(info, sa, "address update refused: peer answered {}",
                    wire::to_string(err->type));
            sa.registry().note_mobike_refused(sa, "address update refused by the peer", step.now);
            return Outcome::kDone;
        }
        if (auto nat = mobike_nat(sa, *notes, sa.local(), sa.remote())) {
            if (nat->first != sa.nat_here() || nat->second != sa.nat_there()) {
                IKE_LOG(info, sa, "NAT on the new path: {}",
                        nat->first ? "local host is behind NAT" : "none in front of us");
            }
            sa.set_nat(nat->first, nat->second);
        }
        IKE_LOG(info, sa, "address update done: {} - {}{}", sa.local(), sa.remote(),
                sa.udp_encap() ? " (UDP encapsulation)" : "");
        move_children(sa, step);
        return Outcome::kDone;
    }

private:
    std::uint32_t generation_{0};
    Bytes cookie2_;
};

/// The first of the peer's current and additional addresses that a local address reaches.
std::optional<std::pair<IpAddress, IpAddress>> find_path(const IkeSa& sa,
                                                         const std::vector<IpAddress>& addresses,
                                                         const RouteLookup& lookup) {
    if (!lookup) {
        return std::nullopt;
    }
    std::vector<IpAddress> peers{sa.remote().address};
    for (const IpAddress& a : sa.mobike().peer_addresses) {
        if (std::find(peers.begin(), peers.end(), a) == peers.end()) {
            peers.push_back(a);
        }
    }
    for (const IpAddress& peer : peers) {
        const auto src = lookup(peer);
        const bool usable = src && src->is_set() && src->is_v4() == peer.is_v4() &&
                            (addresses.empty() || std::find(addresses.begin(), addresses.end(),
                                                            *src) != addresses.end());
        if (usable) {
            return std::make_pair(*src, peer);
        }
    }
    return std::nullopt;
}

}  // namespace

void mobike_roam(IkeSa& sa, const std::vector<IpAddress>& addresses, const RouteLookup& lookup,
                 Step& step) {
    if (!sa.mobike().on || !sa.mobike().mover ||
        (sa.state() != IkeState::kEstablished && sa.state() != IkeState::kRekeying)) {
        return;
    }
    const auto path = find_path(sa, addresses, lookup);
    if (!path) {
        IKE_LOG(info, sa, "no local address reaches the peer, waiting for one");
        return;
    }
    if (path->first == sa.local().address && path->second == sa.remote().address) {
        return;  // the path is unchanged
    }
    const Endpoint local{path->first, 4500};
    // Port 4500 from now on (§3.3); a peer's port other than 500 (its NAT's) is kept.
    const bool same_peer = path->second == sa.remote().address && sa.remote().port != 500;
    const Endpoint remote{path->second, same_peer ? sa.remote().port : std::uint16_t{4500}};
    IKE_LOG(info, sa, "moving IKE_SA from {} - {} to {} - {}", sa.local(), sa.remote(), local,
            remote);
    // §3.5: the IKE SA takes the new addresses at once (requests under way are retransmitted
    // on the new path); the update follows when the window allows, and the Child SAs move
    // with its answer (which says whether a NAT is now in the way).
    sa.set_endpoints(local, remote);
    MobikeInfo& m = sa.mobike();
    m.pending = true;
    ++m.generation;
    if (!sa.queued("MOBIKE_UPDATE")) {
        sa.queue(std::make_unique<MobikeUpdate>(), step);
    }
}

void mobike_after_rekey(IkeSa& survivor, Step& step) {
    const MobikeInfo& m = survivor.mobike();
    if (m.on && m.mover && m.pending && !survivor.queued("MOBIKE_UPDATE")) {
        survivor.queue(std::make_unique<MobikeUpdate>(), step);
    }
}

}  // namespace ikeplex::ike
