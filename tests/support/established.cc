#include "established.h"

#include <cstdlib>
#include <map>
#include <tuple>

#include "crypto/keymat.h"
#include "ike/proposal.h"

namespace ikeplex::test {

namespace {

/// The same fixed secrets on both sides (what a handshake would have agreed on).
const Bytes& nonce(bool initiator) {
    static const Bytes ni(32, 0x11);
    static const Bytes nr(32, 0x22);
    return initiator ? ni : nr;
}

crypto::IkeKeys copy(const crypto::IkeKeys& k) {
    return crypto::IkeKeys{k.sk_d.clone(),  k.sk_ai.clone(), k.sk_ar.clone(), k.sk_ei.clone(),
                           k.sk_er.clone(), k.sk_pi.clone(), k.sk_pr.clone()};
}

Bytes spi_bytes(Spi spi) {
    const std::uint32_t v = spi.value();
    return Bytes{static_cast<std::uint8_t>(v >> 24U), static_cast<std::uint8_t>(v >> 16U),
                 static_cast<std::uint8_t>(v >> 8U), static_cast<std::uint8_t>(v)};
}

/// One side's IKE SA, adopted by its manager and established.
Result<ike::IkeSa*> make_ike_sa(Harness& h, Node& n, bool initiator, IkeSpi spi_i, IkeSpi spi_r,
                                const ike::IkeAlgorithms& algorithms, const crypto::IkeKeys& keys) {
    ike::ConfigPtr cfg = n.manager.configs().find("conn");
    if (cfg == nullptr) {
        return Error{Errc::kNotFound, "establish_directly: connection 'conn' not loaded"};
    }
    const Node& peer = h.peer(n);
    auto sa = std::make_unique<ike::IkeSa>(n.manager.services(), n.manager, n.manager.next_ike_id(),
                                           initiator, Endpoint{n.address, 500},
                                           Endpoint{peer.address, 500});
    sa->set_config(cfg);
    sa->set_spis(spi_i, spi_r);
    sa->set_local_id(cfg->local.id);
    sa->set_remote_id(cfg->remote.id);
    sa->set_peer_window(cfg->window_size);
    sa->set_peer_fragmentation(true);
    IKEPLEX_TRY(sa->set_crypto(algorithms, copy(keys)));
    sa->end_handshake();
    ike::IkeSa& ref = n.manager.adopt(std::move(sa));
    h.act(n, [&](ike::Step& s) { ref.established(s); });
    return &ref;
}

/// The first Child SA of `sa`'s config, installed with `keys` (spi_in/spi_out as given).
Status add_child(Harness& h, Node& n, ike::IkeSa& sa, Spi spi_in, Spi spi_out,
                 const crypto::ChildKeys& keys) {
    const ike::PeerConfig& conn = *sa.config();
    if (conn.children.empty()) {
        return Error{Errc::kNotFound, "establish_directly: connection without a child"};
    }
    const ike::ChildConfig& cc = conn.children.front();
    if (cc.esp_proposals.empty()) {
        return Error{Errc::kNotFound, "establish_directly: child without an ESP proposal"};
    }
    auto c = std::make_unique<ike::ChildSa>();
    c->id = n.manager.next_child_id();
    c->config = &cc;
    c->reqid = n.manager.reqid_for(conn, cc);
    c->spi_in = spi_in;
    c->spi_out = spi_out;
    c->mode = cc.mode;
    c->local_ts = cc.local_ts;
    c->remote_ts = cc.remote_ts;
    c->proposal = cc.esp_proposals.front();
    c->proposal.spi = spi_bytes(spi_in);
    c->algorithms =
            IKEPLEX_TRY(ike::child_algorithms(h.a().manager.services().registry, c->proposal));
    c->group_member = cc.per_cpu_sas;  // the fallback of its group
    crypto::ChildKeys k{keys.encr_i.clone(), keys.integ_i.clone(), keys.encr_r.clone(),
                        keys.integ_r.clone()};
    h.act(n, [&](ike::Step& s) {
        ike::ChildSa& ref = sa.add_child(std::move(c));
        sa.install_child(ref, std::move(k), sa.is_original_initiator(), s);
        // Nothing due now: the manager's finish() tells the harness the next deadline.
        n.manager.on_timer(s);
    });
    return ok();
}

/// The keys of an IKE SA with `ike` and its first Child SA with `esp`: derived once per pair of
/// algorithm suites (from fixed nonces, SKEYSEED and SPIs) and copied for every SA made
/// (single-threaded callers: tests and fuzz targets).
struct Keys {
    crypto::IkeKeys ike;
    crypto::ChildKeys child;
};
Result<const Keys*> keys_for(const crypto::Registry& reg, const ike::IkeAlgorithms& a,
                             const ike::ChildAlgorithms& ca) {
    using Id = std::tuple<const void*, const void*, const void*, const void*, const void*>;
    static std::map<Id, Keys> cache;
    const Id id{a.suite.encr, a.suite.integ, a.suite.prf, ca.encr, ca.integ};
    if (auto it = cache.find(id); it != cache.end()) {
        return &it->second;
    }
    const crypto::Prf prf(reg, *a.suite.prf);
    const Bytes g_ir(32, 0x33);
    const SecretBytes seed = IKEPLEX_TRY(crypto::skeyseed(prf, nonce(true), nonce(false), g_ir));
    crypto::IkeKeys ike = IKEPLEX_TRY(crypto::derive_ike_keys(
            prf, a.suite, seed.view(), nonce(true), nonce(false), IkeSpi(1), IkeSpi(2)));
    crypto::ChildKeys child = IKEPLEX_TRY(
            crypto::derive_child_keys(prf, ike.sk_d.view(), {}, nonce(true), nonce(false),
                                      ca.encr_key_size(), ca.integ_key_size()));
    return &cache.emplace(id, Keys{std::move(ike), std::move(child)}).first->second;
}

/// The IKE SA's algorithms (the connection's first IKE proposal) and the keys for them and
/// for the first Child SA.
struct Suite {
    ike::IkeAlgorithms ike;
    const Keys* keys{nullptr};
};
Result<Suite> suite_of(Node& n) {
    const ike::ConfigPtr cfg = n.manager.configs().find("conn");
    if (cfg == nullptr || cfg->ike_proposals.empty() || cfg->children.empty() ||
        cfg->children.front().esp_proposals.empty()) {
        return Error{Errc::kNotFound, "established: connection 'conn' not loaded"};
    }
    const crypto::Registry& reg = n.manager.services().registry;
    Suite s;
    s.ike = IKEPLEX_TRY(ike::ike_algorithms(reg, cfg->ike_proposals.front()));
    const ike::ChildAlgorithms ca =
            IKEPLEX_TRY(ike::child_algorithms(reg, cfg->children.front().esp_proposals.front()));
    s.keys = IKEPLEX_TRY(keys_for(reg, s.ike, ca));
    return s;
}

}  // namespace

Result<Established> establish_directly(Harness& h, bool initiator_is_a) {
    Node& ni = initiator_is_a ? h.a() : h.b();
    Node& nr = initiator_is_a ? h.b() : h.a();
    const Suite suite = IKEPLEX_TRY(suite_of(ni));
    const ike::IkeAlgorithms& a = suite.ike;
    const Keys* keys = suite.keys;
    const IkeSpi spi_i = ni.manager.new_ike_spi();
    const IkeSpi spi_r = nr.manager.new_ike_spi();
    Established out;
    out.initiator = IKEPLEX_TRY(make_ike_sa(h, ni, true, spi_i, spi_r, a, keys->ike));
    out.responder = IKEPLEX_TRY(make_ike_sa(h, nr, false, spi_i, spi_r, a, keys->ike));
    // The Child SA: each side's inbound SPI from its allocator.
    const Spi in_i = ni.spis.allocate(ike::SpiRequest{{}, ni.address, nr.address});
    const Spi in_r = nr.spis.allocate(ike::SpiRequest{{}, nr.address, ni.address});
    IKEPLEX_TRY(add_child(h, ni, *out.initiator, in_i, in_r, keys->child));
    IKEPLEX_TRY(add_child(h, nr, *out.responder, in_r, in_i, keys->child));
    return out;
}

Result<PeerSide> establish_with_peer(Harness& h, Node& engine, bool engine_is_initiator) {
    const Suite suite = IKEPLEX_TRY(suite_of(engine));
    const ike::IkeAlgorithms& a = suite.ike;
    const Keys* keys = suite.keys;
    const crypto::Registry& reg = engine.manager.services().registry;
    const IkeSpi own = engine.manager.new_ike_spi();
    const IkeSpi theirs(0x7065657273706931ULL);  // "peerspi1"
    const IkeSpi spi_i = engine_is_initiator ? own : theirs;
    const IkeSpi spi_r = engine_is_initiator ? theirs : own;
    ike::IkeSa* sa =
            IKEPLEX_TRY(make_ike_sa(h, engine, engine_is_initiator, spi_i, spi_r, a, keys->ike));
    const Node& peer = h.peer(engine);
    const Spi engine_spi = engine.spis.allocate(ike::SpiRequest{{}, engine.address, peer.address});
    const Spi peer_spi(0xc0000001U);
    IKEPLEX_TRY(add_child(h, engine, *sa, engine_spi, peer_spi, keys->child));
    // The peer's keys: SK_ei/SK_ai out when it is the initiator.
    const crypto::IkeKeys& k = keys->ike;
    const bool pi = !engine_is_initiator;
    auto seal = IKEPLEX_TRY(ike::SkCipher::create(reg, *a.suite.encr, a.suite.integ,
                                                  (pi ? k.sk_ei : k.sk_er).view(),
                                                  (pi ? k.sk_ai : k.sk_ar).view()));
    auto open = IKEPLEX_TRY(ike::SkCipher::create(reg, *a.suite.encr, a.suite.integ,
                                                  (pi ? k.sk_er : k.sk_ei).view(),
                                                  (pi ? k.sk_ar : k.sk_ai).view()));
    return PeerSide{spi_i,           spi_r,    pi,         std::move(seal),
                    std::move(open), sa->id(), engine_spi, peer_spi};
}

}  // namespace ikeplex::test
