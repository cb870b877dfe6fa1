// RFC 9370 §2.2.4: the IKE_FOLLOWUP_KE rounds, both roles (followup_ke.h).
#include "ike/followup_ke.h"

#include <map>

#include "ike/payload_access.h"
#include "util/log.h"
#include "wire/names.h"

namespace ikeplex::ike {

using wire::NotifyType;
using wire::Payload;
using wire::PayloadType;

std::vector<std::uint16_t> additional_methods(const wire::Proposal& p) {
    std::vector<std::uint16_t> out;
    for (auto t = static_cast<std::uint8_t>(wire::TransformType::kAddKe1);
         t <= static_cast<std::uint8_t>(wire::TransformType::kAddKe7); ++t) {
        for (const wire::Transform& x : p.transforms) {
            if (static_cast<std::uint8_t>(x.type) == t && x.id != 0) {
                out.push_back(x.id);
                break;
            }
        }
    }
    return out;
}

SecretBytes nonce_and_secrets(ByteView nr, std::span<const SecretBytes> secrets) {
    std::size_t n = nr.size();
    for (const SecretBytes& s : secrets) {
        n += s.size();
    }
    SecretBytes out(n);
    std::size_t at = 0;
    const auto put = [&](ByteView b) {
        std::copy(b.begin(), b.end(), out.mut_view().begin() + static_cast<std::ptrdiff_t>(at));
        at += b.size();
    };
    put(nr);
    for (const SecretBytes& s : secrets) {
        put(s.view());
    }
    return out;
}

// --- initiator ---

Status FollowupRounds::start(std::vector<std::uint16_t> methods,
                             std::span<const Payload> response) {
    const auto* link = find_notify(response, NotifyType::kAdditionalKeyExchange);
    if (link == nullptr || link->data.empty()) {
        return make_error(Errc::kState, "no ADDITIONAL_KEY_EXCHANGE link in the response");
    }
    methods_ = std::move(methods);
    next_ = 0;
    link_ = link->data;
    secrets_.clear();
    return ok();
}

Result<std::vector<Payload>> FollowupRounds::build(IkeSa& sa) {
    ke_ = IKEPLEX_TRY(sa.make_ke(methods_.at(next_)));
    std::vector<Payload> out;
    out.push_back(wire::make_payload(wire::KePayload{
            methods_[next_], Bytes(ke_->public_value().begin(), ke_->public_value().end())}));
    out.push_back(wire::make_notify(NotifyType::kAdditionalKeyExchange, link_));
    return out;
}

Status FollowupRounds::process(std::span<const Payload> response) {
    if (first_error(response) != nullptr) {
        return make_error(Errc::kState, "IKE_FOLLOWUP_KE answered with an error");
    }
    const auto* ker = find_payload<wire::KePayload>(response, PayloadType::kKe);
    if (ke_ == nullptr || ker == nullptr || ker->group != methods_[next_]) {
        return make_error(Errc::kState, "IKE_FOLLOWUP_KE response without the KE method");
    }
    SecretBytes secret = IKEPLEX_TRY(ke_->shared_secret(ker->data));
    ke_.reset();
    secrets_.push_back(std::move(secret));
    ++next_;
    if (active()) {
        const auto* link = find_notify(response, NotifyType::kAdditionalKeyExchange);
        if (link == nullptr || link->data.empty()) {
            return make_error(Errc::kState, "IKE_FOLLOWUP_KE response without the next link");
        }
        link_ = link->data;
    }
    return ok();
}

// --- responder ---

namespace {

struct Pending {
    Bytes link;
    std::vector<std::uint16_t> methods;
    std::size_t round{0};
    std::vector<SecretBytes> secrets;
    Bytes nr;
    std::unique_ptr<FollowupCompletion> completion;
};

/// The pending creations of an IKE SA as responder, by the id inside their link data.
struct FollowupTable final : ExchangeState {
    std::map<std::uint32_t, Pending> by_id;
    std::uint32_t next_id{1};
};

/// Link data: our id (4 octets) and 4 random octets, so that an old link is not taken for a
/// new one with the same id.
Bytes make_link(std::uint32_t id, Random& random) {
    Bytes b{static_cast<std::uint8_t>(id >> 24U), static_cast<std::uint8_t>(id >> 16U),
            static_cast<std::uint8_t>(id >> 8U), static_cast<std::uint8_t>(id)};
    const Bytes r = random.bytes(4);
    b.insert(b.end(), r.begin(), r.end());
    return b;
}

std::uint32_t link_id(const Bytes& link) {
    return link.size() != 8 ? 0
                            : (std::uint32_t{link[0]} << 24U) | (std::uint32_t{link[1]} << 16U) |
                                      (std::uint32_t{link[2]} << 8U) | link[3];
}

void drop(IkeSa& sa, FollowupTable& table, std::uint32_t id, Step& step) {
    const auto it = table.by_id.find(id);
    if (it == table.by_id.end()) {
        return;
    }
    std::unique_ptr<FollowupCompletion> completion = std::move(it->second.completion);
    table.by_id.erase(it);
    sa.services().timers.cancel({sa.id(), TimerKind::kFollowupKe, id});
    completion->discard(sa, step);
}

/// A refused IKE_FOLLOWUP_KE request: counted, logged rate-limited, answered with `type`.
Response refuse(IkeSa& sa, NotifyType type, const char* why, Step& step) {
    sa.registry().note_followup_refused();
    PEER_LOG(sa.services().peer_log, step.now, info, log::Subsystem::kIke,
             "{} IKE_FOLLOWUP_KE refused ({}): {}", sa.label(), why, wire::to_string(type));
    return error_response(type);
}

}  // namespace

std::optional<Payload> expect_followups(IkeSa& sa, std::vector<std::uint16_t> methods,
                                        const Bytes& nr,
                                        std::unique_ptr<FollowupCompletion> completion,
                                        Step& step) {
    auto& table = sa.states().get<FollowupTable>();
    if (table.by_id.size() >= kMaxPendingFollowups) {
        IKE_LOG(info, sa, "{} additional key exchanges pending already", table.by_id.size());
        return std::nullopt;
    }
    const std::uint32_t id = table.next_id++;
    if (table.next_id == 0) {
        table.next_id = 1;
    }
    Pending p;
    p.link = make_link(id, sa.services().random);
    p.methods = std::move(methods);
    p.nr = nr;
    p.completion = std::move(completion);
    Payload notify = wire::make_notify(NotifyType::kAdditionalKeyExchange, p.link);
    table.by_id.emplace(id, std::move(p));
    sa.services().timers.set({sa.id(), TimerKind::kFollowupKe, id}, step.now + kFollowupTimeout);
    return notify;
}

bool followups_pending(IkeSa& sa, bool child_only) {
    const auto* table = sa.states().find<FollowupTable>();
    if (table == nullptr) {
        return false;
    }
    return std::any_of(table->by_id.begin(), table->by_id.end(),
                       [&](const auto& e) { return !child_only || e.second.completion->child(); });
}

Response respond_followup_ke(IkeSa& sa, std::vector<Payload>& request, Step& step) {
    if (sa.before_authentication()) {
        return error_response(NotifyType::kInvalidSyntax);
    }
    const auto* link = find_notify(request, NotifyType::kAdditionalKeyExchange);
    const auto* kei = find_payload<wire::KePayload>(request, PayloadType::kKe);
    auto& table = sa.states().get<FollowupTable>();
    const auto it = table.by_id.find(link_id(link->data));
    if (it == table.by_id.end() || it->second.link != link->data) {
        // RFC 9370 §2.2.4: no exchange under way with this link (never was, timed out, done).
        return refuse(sa, NotifyType::kStateNotFound, "unknown link", step);
    }
    const std::uint32_t id = it->first;
    Pending& p = it->second;
    const std::uint16_t method = p.methods[p.round];
    if (kei->group != method) {
        // The method of this round was agreed in the CREATE_CHILD_SA; the exchange fails.
        drop(sa, table, id, step);
        return refuse(sa, NotifyType::kInvalidSyntax, "wrong KE method", step);
    }
    auto ke = sa.make_ke(method);
    auto secret = ke ? (*ke)->respond(kei->data) : Result<SecretBytes>(ke.error());
    if (!secret) {
        drop(sa, table, id, step);
        return refuse(sa, NotifyType::kInvalidSyntax, "bad KE value", step);
    }
    p.secrets.push_back(std::move(*secret));
    ++p.round;
    std::vector<Payload> out;
    out.push_back(wire::make_payload(wire::KePayload{
            method, Bytes((*ke)->public_value().begin(), (*ke)->public_value().end())}));
    if (p.round < p.methods.size()) {
        // The next round gets new link data: a replay of this request finds nothing.
        p.link = make_link(id, sa.services().random);
        out.push_back(wire::make_notify(NotifyType::kAdditionalKeyExchange, p.link));
        sa.services().timers.set({sa.id(), TimerKind::kFollowupKe, id},
                                 step.now + kFollowupTimeout);
        return out;
    }
    // The last round: the SA is made now.
    Pending done = std::move(p);
    table.by_id.erase(it);
    sa.services().timers.cancel({sa.id(), TimerKind::kFollowupKe, id});
    const SecretBytes tail = nonce_and_secrets(done.nr, done.secrets);
    std::vector<Payload> rest = done.completion->finish(sa, tail.view(), step);
    if (first_error(rest) != nullptr) {
        return rest;
    }
    out.insert(out.end(), std::make_move_iterator(rest.begin()),
               std::make_move_iterator(rest.end()));
    return out;
}

void on_followup_timeout(IkeSa& sa, std::uint32_t id, Step& step) {
    if (sa.state() == IkeState::kDestroyed) {
        return;
    }
    auto* table = sa.states().find<FollowupTable>();
    if (table == nullptr || table->by_id.count(id) == 0) {
        return;
    }
    IKE_LOG(info, sa, "no IKE_FOLLOWUP_KE for round {} of {} came, giving up",
            table->by_id[id].round + 1, table->by_id[id].methods.size());
    sa.registry().note_followup_refused();
    drop(sa, *table, id, step);
}

void discard_followups(IkeSa& sa, Step& step) {
    auto* table = sa.states().find<FollowupTable>();
    while (table != nullptr && !table->by_id.empty()) {
        drop(sa, *table, table->by_id.begin()->first, step);
    }
}

}  // namespace ikeplex::ike
