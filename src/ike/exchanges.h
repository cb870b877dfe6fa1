// Internal to the engine: the exchanges an IKE SA initiates and the handlers that answer them.
// One file per exchange: ike_init.cc, ike_auth.cc, child_create.cc, ike_rekey.cc,
// informational.cc.
#pragma once

#include <span>
#include <utility>
#include <vector>

#include "ike/ike_sa.h"

namespace ikeplex::ike {

// --- initiator side ---
ExchangePtr make_ike_init();
ExchangePtr make_ike_auth(const ChildConfig* first_child, ResourceId resource);
/// A new Child SA, or (rekeyed != 0) the rekeying of Child SA `rekeyed`.
ExchangePtr make_child_create(const ChildConfig& child, ResourceId resource, std::uint32_t rekeyed);
ExchangePtr make_ike_rekey();
/// The peer deletes this IKE SA: if our rekey of it collided with the peer's (RFC 7296
/// §2.8.2), the IKE SA the peer's rekey made takes the Child SAs first.
void hand_over_before_delete(IkeSa& sa, Step& step);
/// A request (other than its Delete) on an IKE SA the peer's rekey made while ours collided
/// with it: the peer's won, so the old IKE SA hands its Child SAs over first.
void take_over_on_use(IkeSa& sa, Step& step);
ExchangePtr make_delete_child(std::uint32_t child_id);
ExchangePtr make_delete_ike();
ExchangePtr make_dpd();
/// An INFORMATIONAL carrying one error notify; the IKE SA is destroyed when it completes
/// (or fails). `reason` must be a string literal.
ExchangePtr make_fatal_notify(wire::NotifyType type, const char* reason);

/// Our outbound SPIs the peer deleted before the response creating them reached us (its Delete
/// overtook it, RFC 7296 §1.4.1): such a Child SA goes as soon as it is made (complete_offer()).
/// Written by the INFORMATIONAL responder, read by the Child SA initiators.
struct EarlyDeletes final : ExchangeState {
    std::vector<Spi> spis;
};

// --- responder side ---
/// What a responder answers to a request.
struct Response {
    Response() = default;
    // Implicit on purpose: a responder returns its payloads as they are.
    Response(std::vector<wire::Payload> p, bool f = false)  // NOLINT(google-explicit-constructor)
        : payloads(std::move(p)), fatal(f) {}

    std::vector<wire::Payload> payloads;
    /// Delete the IKE SA once the response is sent (e.g. AUTHENTICATION_FAILED).
    bool fatal{false};
    /// No response yet: it comes with IkeSa::answer_deferred() (an AAA backend's answer).
    bool deferred{false};
    /// ... and it waits for a revocation status (ike_auth_revocation.h), which keeps its own
    /// timer (revocation_timeout, not eap_backend_timeout).
    bool revocation_hold{false};
};

/// A response that carries just one error notify.
std::vector<wire::Payload> error_response(wire::NotifyType type, Bytes data = {});

/// The responders, one per kind of request; each checks the IKE SA's state itself. Registered
/// in responders.cc (a new exchange adds its line there).
Response respond_ike_auth(IkeSa& sa, std::vector<wire::Payload>& request, Step& step);
Response respond_create_child_sa(IkeSa& sa, std::vector<wire::Payload>& request, Step& step);
Response respond_ike_rekey(IkeSa& sa, std::vector<wire::Payload>& request, Step& step);
Response respond_informational(IkeSa& sa, std::vector<wire::Payload>& request, Step& step);
/// Whether a CREATE_CHILD_SA request rekeys the IKE SA (an IKE proposal, no REKEY_SA).
bool rekeys_ike_sa(std::span<const wire::Payload> request);

/// The AAA backend's answer to EAP query `seq` of IKE SA `sa` (ike_auth_eap.cc).
void on_eap_backend_answer(IkeSa& sa, std::uint32_t seq, EapBackendAnswer answer, Step& step);
/// The AAA backend did not answer within Settings::eap_backend_timeout: EAP-Failure, the SA
/// ends.
void on_eap_backend_timeout(IkeSa& sa, Step& step);

/// The answer to a request: INVALID_SYNTAX if its payloads break the exchange's rules, else
/// the responder registered for it (INVALID_SYNTAX if none takes it).
Response answer_request(IkeSa& sa, const wire::Header& h, std::vector<wire::Payload>& request,
                        Step& step);

// --- shared by IKE_SA_INIT and IKE rekey ---
/// NAT_DETECTION_*_IP data: SHA-1(SPIi | SPIr | IP | port) (RFC 7296 §2.23).
Result<Bytes> nat_hash(const crypto::Registry& r, IkeSpi spi_i, IkeSpi spi_r, const Endpoint& e);
/// N(NATD_S_IP) and N(NATD_D_IP) for this side's view of the endpoints. `fake` replaces the
/// source hash so the peer sees a NAT (strongSwan's way to force UDP encapsulation).
Status append_natd(const crypto::Registry& r, IkeSpi spi_i, IkeSpi spi_r, const Endpoint& local,
                   const Endpoint& remote, bool fake, Random& random,
                   std::vector<wire::Payload>& out);
/// Whether this side fakes its NAT_DETECTION_SOURCE_IP (strongSwan's `encap = yes`;
/// ikeplexd's userspace data plane with `raw_esp = no`): the peer then sees a NAT and both
/// sides encapsulate ESP in UDP.
bool fakes_nat(const IkeSa& sa);
/// The inner payloads of a Child SA request or response: SA, Nonce, [KE], TSi, TSr.
struct ChildPayloads {
    const wire::SaPayload* sa{nullptr};
    const wire::NoncePayload* nonce{nullptr};
    const wire::KePayload* ke{nullptr};
    const wire::TsPayload* tsi{nullptr};
    const wire::TsPayload* tsr{nullptr};
};
ChildPayloads child_payloads(std::span<const wire::Payload> ps);

/// The responder half of creating a Child SA (IKE_AUTH and CREATE_CHILD_SA): picks the child
/// config and proposal, narrows TS, derives keys and installs (with RFC 9370 additional key
/// exchanges: makes it CREATING and answers with the first link, followup_ke.h). Returns the
/// response payloads for the Child SA (SA, TSi, TSr, notifies) or an error notify. `nonces`: Ni |
/// Nr to key with (IKE_AUTH: those of IKE_SA_INIT). `g_ir`: PFS secret or empty.
struct ChildRequest {
    std::span<const wire::Payload> payloads;
    const Bytes* ni{nullptr};
    const Bytes* nr{nullptr};
    ByteView g_ir;
    bool ignore_ke{false};      ///< IKE_AUTH: KE transforms do not count
    bool include_nonce{false};  ///< CREATE_CHILD_SA: put Nr after SA in the response
    ChildSa* rekeyed{nullptr};  ///< CREATE_CHILD_SA rekey: the old Child SA
};
std::vector<wire::Payload> accept_child(IkeSa& sa, const ChildRequest& req, Step& step,
                                        std::uint32_t* created = nullptr);

/// The initiator's Child SA request payloads and the state to finish it with the response.
struct ChildOffer {
    const ChildConfig* config{nullptr};
    ResourceId resource;
    bool resource_info{false};  ///< RFC 9611: N(SA_RESOURCE_INFO) goes with it
    bool member{false};         ///< a rekey of a group member (it stays one)
    MemberInfo member_info;     ///< a new member's identifier slot; a rekey's inherited facts
    Spi spi_in;
    std::vector<wire::Proposal> proposals;
    std::vector<TrafficSelector> tsi;
    std::vector<TrafficSelector> tsr;
};
/// Builds the offer for `child` (reserving an inbound SPI); `with_ke`: keep KE transforms.
/// `rekeyed`: the Child SA a rekey replaces (its selectors, resource and group membership
/// carry over). A new RFC 9611 member copies its group's proposal and selectors.
ChildOffer make_offer(IkeSa& sa, const ChildConfig& child, ResourceId resource, bool with_ke,
                      const ChildSa* rekeyed = nullptr);
/// The SA payload of an offer.
void append_offer(const ChildOffer& offer, std::vector<wire::Payload>& out);
/// TSi, TSr, (transport mode) N(USE_TRANSPORT_MODE) and (RFC 9611) N(SA_RESOURCE_INFO) of an
/// offer, in strongSwan's order.
void append_offer_ts(const IkeSa& sa, const ChildOffer& offer, std::vector<wire::Payload>& out);
/// Completes an offered Child SA from the response; returns its id, or 0 on failure (logged).
/// `nr`: with RFC 9370 additional key exchanges, Nr | SK(1) | ... | SK(n) (followup_ke.h).
std::uint32_t complete_offer(IkeSa& sa, ChildOffer& offer, std::span<const wire::Payload> response,
                             ByteView ni, ByteView nr, ByteView g_ir, bool ignore_ke, Step& step);
/// Responder: the peer's rekey of Child SA `old_id` made Child SA `created` (installed): the old
/// one is replaced, or (we rekey it too) the nonces decide later (RFC 7296 §2.8.1).
void note_peer_rekey(IkeSa& sa, std::uint32_t old_id, std::uint32_t created, const Bytes& ni,
                     const Bytes& nr, Step& step);

}  // namespace ikeplex::ike
