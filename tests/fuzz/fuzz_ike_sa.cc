// libFuzzer target: a whole established IKE SA driven through the engine, past the SK payload.
//
// Each input starts from an IKE SA and its first Child SA made directly on one engine (node a
// as the original initiator, or node b as the responder) from fixed keys
// (tests/support/established.h): no key exchange, no handshake code. The input plays the peer:
// it holds the IKE SA's keys, so everything it sends passes the integrity check and reaches the
// exchange handlers; it sees the headers of what the engine sends and answers its requests.
//
// Input: one flags byte (bit 0: the engine is the original initiator; bit 1: the child config
// does RFC 9611 per-CPU SAs, 4 local resources, at most 3 members), then records
// [kind][length:2][data] (fuzz_records.h), up to 64 KiB:
//   kind % 6 == 0  the peer's request: [exchange][payload program] (below), next message id;
//   kind % 6 == 1  the peer's response to one of the engine's requests not yet answered:
//                  [which][payload program] (no request outstanding: message id `which`);
//   kind % 6 == 2  time passes: data[0] seconds (timers: retransmits, DPD, rekeys, expiry);
//   kind % 6 == 3  something happens on the engine's side: [what][arg] (rekey, delete, create
//                  a Child SA, an acquire for a resource, an expire, terminate, install failure);
//   kind % 6 == 4  raw plaintext: [exchange][first payload][response?][payload chain bytes],
//                  sealed (the parser, payload rules and handlers on arbitrary bytes);
//   kind % 6 == 5  the peer's last request again (a retransmit).
// A payload program is a list of [op][args...] that builds well-formed payloads from the
// connection (proposals, nonces, KE, traffic selectors, notifies incl. REKEY_SA and
// SA_RESOURCE_INFO (16444), deletes naming real SPIs) with the input choosing the variations.
// Set IKEPLEX_FUZZ_SEEDS_OUT=dir to write the seed corpus (tests/fuzz/corpus/ike_sa) and exit.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "established.h"
#include "exchange_harness.h"
#include "fuzz_records.h"
#include "ike/proposal.h"
#include "wire/message.h"

namespace {

using namespace ikeplex;
using namespace ikeplex::test;
using fuzz::Record;
using wire::ExchangeType;
using wire::NotifyType;
using wire::PayloadType;

constexpr std::uint32_t kResources = 4;

/// Both configurations, built once.
struct Fixed {
    PairConfig plain = psk_pair("aes128gcm16-prfsha256-x25519", "aes128gcm16-x25519");
    PairConfig per_cpu = psk_pair("aes128gcm16-prfsha256-x25519", "aes128gcm16-x25519");
    ike::Settings settings;
    Fixed() {
        for (PairConfig* p : {&plain, &per_cpu}) {
            for (ike::PeerConfig* c : {&p->a, &p->b}) {
                c->window_size = 4;
                c->dpd_delay = std::chrono::seconds(30);
            }
        }
        for (ike::PeerConfig* c : {&per_cpu.a, &per_cpu.b}) {
            c->children.front().per_cpu_sas = true;
            c->children.front().per_cpu_sas_max = 3;
        }
        settings.resources = kResources;
    }
};
const Fixed& fixed() {
    static const Fixed f;
    return f;
}

/// The notifies a program can add (index = input byte % size).
constexpr NotifyType kNotifies[] = {NotifyType::kSaResourceInfo,
                                    NotifyType::kRekeySa,
                                    NotifyType::kTsMaxQueue,
                                    NotifyType::kNoAdditionalSas,
                                    NotifyType::kTemporaryFailure,
                                    NotifyType::kChildSaNotFound,
                                    NotifyType::kNoProposalChosen,
                                    NotifyType::kInvalidKePayload,
                                    NotifyType::kTsUnacceptable,
                                    NotifyType::kSinglePairRequired,
                                    NotifyType::kUseTransportMode,
                                    NotifyType::kEspTfcPaddingNotSupported,
                                    NotifyType::kNonFirstFragmentsAlso,
                                    NotifyType::kSetWindowSize,
                                    NotifyType::kInvalidSyntax,
                                    NotifyType::kAdditionalTsPossible,
                                    NotifyType::kInitialContact,
                                    NotifyType::kAuthenticationFailed,
                                    NotifyType::kInvalidSpi,
                                    NotifyType::kUnsupportedCriticalPayload};

Bytes spi4(std::uint32_t v) {
    return Bytes{static_cast<std::uint8_t>(v >> 24U), static_cast<std::uint8_t>(v >> 16U),
                 static_cast<std::uint8_t>(v >> 8U), static_cast<std::uint8_t>(v)};
}

/// One input's world: the engine with its IKE SA, and the peer's side of it.
class Session {
public:
    explicit Session(std::uint8_t flags)
        : engine_initiator_((flags & 1U) != 0),
          h_(1, fixed().settings, fixed().settings),
          engine_(engine_initiator_ ? h_.a() : h_.b()) {
        fuzz::quiet_logs();
        engine_.manager.set_trace_messages(false);
        // What the engine sends goes nowhere (it is recorded in h_.sent, where the peer reads
        // the headers); the other node holds nothing.
        h_.drop = [this](const Datagram& d) { return d.from_a == engine_initiator_; };
        const PairConfig& pair = (flags & 2U) != 0 ? fixed().per_cpu : fixed().plain;
        std::vector<ike::PeerConfig> cfg{engine_initiator_ ? pair.a : pair.b};
        engine_.manager.load(std::move(cfg));
        engine_.manager.set_credentials(psk_credentials());
        auto made = establish_with_peer(h_, engine_, engine_initiator_);
        if (!made) {
            std::abort();  // deterministic; must always work
        }
        peer_.emplace(std::move(*made));
    }

    Harness& harness() { return h_; }
    Node& engine() { return engine_; }

    /// The engine's IKE SA, while it exists.
    ike::IkeSa* sa() { return engine_.manager.find(peer_->ike_id); }

    void request(ByteView data) {
        if (data.empty()) {
            return;
        }
        const auto type = static_cast<ExchangeType>(data[0]);
        send(type, next_mid_++, false, build(data.subspan(1)));
    }

    void respond(ByteView data) {
        if (data.empty()) {
            return;
        }
        collect();
        std::uint32_t mid = data[0];
        auto type = ExchangeType::kInformational;
        if (!outstanding_.empty()) {
            const std::size_t i = data[0] % outstanding_.size();
            mid = outstanding_[i].first;
            type = outstanding_[i].second;
            outstanding_.erase(outstanding_.begin() + static_cast<std::ptrdiff_t>(i));
        }
        send(type, mid, true, build(data.subspan(1)));
    }

    void raw(ByteView data) {
        if (data.size() < 3) {
            return;
        }
        const bool response = (data[2] & 1U) != 0;
        seal_and_deliver(header(static_cast<ExchangeType>(data[0]),
                                response ? data[2] >> 1U : next_mid_++, response),
                         static_cast<PayloadType>(data[1]), data.subspan(3));
    }

    void retransmit() {
        if (!last_request_.empty()) {
            deliver(Bytes(last_request_));
        }
    }

    void engine_event(ByteView data) {
        if (data.empty()) {
            return;
        }
        const std::uint8_t arg = data.size() > 1 ? data[1] : 0;
        ike::IkeSa* s = sa();
        const ike::ChildSa* c = child(arg);
        h_.act(engine_, [&](ike::Step& st) {
            ike::IkeSaManager& m = engine_.manager;
            switch (data[0] % 8) {
                case 0:
                    if (c != nullptr) {
                        (void)m.rekey_child(c->id, st);
                    }
                    break;
                case 1:
                    if (s != nullptr) {
                        (void)m.rekey_ike(s->id(), st);
                    }
                    break;
                case 2:
                    if (c != nullptr) {
                        (void)m.terminate_child(c->id, st);
                    }
                    break;
                case 3:
                    (void)m.initiate("conn", "net", st, resource(arg));
                    break;
                case 4:
                    if (c != nullptr) {
                        m.on_backend_event(ike::Acquire{c->reqid, resource(arg), {}, {}}, st);
                    }
                    break;
                case 5:
                    if (c != nullptr) {
                        m.on_backend_event(ike::Expire{c->spi_in, true, (arg & 0x80U) != 0}, st);
                    }
                    break;
                case 6:
                    if (s != nullptr) {
                        (void)m.terminate_ike(s->id(), st);
                    }
                    break;
                default:
                    if (c != nullptr) {
                        m.on_backend_event(ike::InstallFailed{c->id, c->spi_in, "fuzz"}, st);
                    }
                    break;
            }
        });
    }

private:
    static ResourceId resource(std::uint8_t arg) {
        const std::uint32_t r = arg % (kResources + 1);
        return r == 0 ? ResourceId::none() : ResourceId::cpu(r - 1);
    }

    /// The engine's `i`-th Child SA (modulo their number), if any.
    const ike::ChildSa* child(std::uint8_t i) {
        const ike::IkeSa* s = sa();
        if (s == nullptr || s->children().empty()) {
            return nullptr;
        }
        return s->children()[i % s->children().size()].get();
    }

    /// The engine's requests sent since the last look (retransmits counted once).
    void collect() {
        const auto& sent = h_.sent;
        for (; seen_ < sent.size(); ++seen_) {
            const Datagram& d = sent[seen_];
            if (d.from_a != engine_initiator_) {
                continue;
            }
            auto hd = wire::peek_header(d.data);
            if (!hd || hd->is_response() || hd->spi_i != peer_->spi_i) {
                continue;
            }
            const std::pair<std::uint32_t, ExchangeType> req{hd->message_id.value(), hd->exchange};
            if (std::find(outstanding_.begin(), outstanding_.end(), req) == outstanding_.end() &&
                req.first >= answered_below_) {
                outstanding_.push_back(req);
            }
        }
    }

    [[nodiscard]] wire::Header header(ExchangeType type, std::uint32_t mid, bool response) const {
        wire::Header hd;
        hd.spi_i = peer_->spi_i;
        hd.spi_r = peer_->spi_r;
        hd.exchange = type;
        hd.flags = static_cast<std::uint8_t>((peer_->peer_is_initiator ? wire::kFlagInitiator : 0) |
                                             (response ? wire::kFlagResponse : 0));
        hd.message_id = MessageId(mid);
        return hd;
    }

    void send(ExchangeType type, std::uint32_t mid, bool response,
              const std::vector<wire::Payload>& payloads) {
        auto plain = wire::write_payload_chain(payloads);
        if (!plain) {
            return;
        }
        const PayloadType first = payloads.empty() ? PayloadType::kNone : payloads.front().type;
        const Bytes datagram = seal(header(type, mid, response), first, *plain);
        if (!response) {
            last_request_ = datagram;
        } else if (mid + 1 > answered_below_) {
            answered_below_ = mid + 1;
        }
        deliver(datagram);
    }

    Bytes seal(const wire::Header& hd, PayloadType first, ByteView plain) const {
        const ike::SkCipher& c = peer_->seal;
        const Bytes iv(c.iv_size(), 0x5a);
        auto sealed = c.seal(hd, first, plain, iv, c.default_padding(plain.size()));
        return sealed ? std::move(*sealed) : Bytes{};
    }

    void seal_and_deliver(const wire::Header& hd, PayloadType first, ByteView plain) {
        const Bytes datagram = seal(hd, first, plain);
        if (!hd.is_response()) {
            last_request_ = datagram;
        }
        deliver(datagram);
    }

    void deliver(const Bytes& datagram) {
        if (datagram.empty()) {
            return;
        }
        Node& other = h_.peer(engine_);
        const Endpoint from{other.address, 500};
        const Endpoint to{engine_.address, 500};
        h_.act(engine_, [&](ike::Step& s) { engine_.manager.on_datagram(datagram, to, from, s); });
    }

    /// The peer's traffic selectors: its own side first (TSi of a request it sends).
    [[nodiscard]] wire::TsPayload selectors(bool peer_side, std::uint8_t variant) const {
        const ike::ChildConfig& cc = engine_.manager.configs().items().front()->children.front();
        const auto& ts = peer_side ? cc.remote_ts : cc.local_ts;
        wire::TsPayload p = ike::to_wire(ts);
        switch (variant % 5) {
            case 1:  // narrowed to one address
                for (auto& s : p.selectors) {
                    s.end_address = s.start_address;
                }
                break;
            case 2:  // everything
                p = ike::to_wire(std::vector{*ike::TrafficSelector::parse("0.0.0.0/0")});
                break;
            case 3:  // IPv6
                p = ike::to_wire(std::vector{*ike::TrafficSelector::parse("fd00::/64")});
                break;
            case 4:  // one port of UDP
                for (auto& s : p.selectors) {
                    s.ip_protocol = 17;
                    s.start_port = s.end_port = 4500;
                }
                break;
            default:
                break;
        }
        return p;
    }

    std::vector<wire::Payload> build(ByteView program) {
        const ike::PeerConfig& conn = *engine_.manager.configs().items().front();
        const ike::ChildConfig& cc = conn.children.front();
        std::size_t pos = 0;
        std::vector<wire::Payload> out;
        // The next byte of the program (zeros past its end).
        const auto u8 = [&] { return pos < program.size() ? program[pos++] : std::uint8_t{0}; };
        while (pos < program.size() && out.size() < 16) {
            switch (u8() % 10) {
                case 0: {  // SA for a Child SA: our SPI, and maybe only one proposal
                    auto proposals = cc.esp_proposals;
                    const std::uint8_t v = u8();
                    for (auto& p : proposals) {
                        p.spi = spi4(0xc1000000U + v);
                    }
                    out.push_back(wire::make_payload(wire::SaPayload{proposals}));
                    break;
                }
                case 1: {  // SA for an IKE SA (rekey)
                    auto proposals = conn.ike_proposals;
                    const std::uint8_t v = u8();
                    for (auto& p : proposals) {
                        p.spi = Bytes{1, 2, 3, 4, 5, 6, 7, v};
                    }
                    out.push_back(wire::make_payload(wire::SaPayload{proposals}));
                    break;
                }
                case 2:  // Nonce of a chosen length (valid: 16..256)
                    out.push_back(wire::make_payload(wire::NoncePayload{Bytes(u8() | 16U, 0x4e)}));
                    break;
                case 3: {  // KE: the configured group (or another), the X25519 base point
                    const std::uint8_t v = u8();
                    const std::uint16_t group = v % 4 == 0 ? 19 : (v % 4 == 1 ? 0 : 31);
                    Bytes ke(v % 8 == 2 ? 31 : 32, 0);
                    ke[0] = 9;
                    out.push_back(wire::make_payload(wire::KePayload{group, ke}));
                    break;
                }
                case 4:
                    out.push_back(wire::make_tsi(selectors(true, u8())));
                    break;
                case 5:
                    out.push_back(wire::make_tsr(selectors(false, u8())));
                    break;
                case 6: {  // Notify: [type][spi choice][length][data]
                    const NotifyType type = kNotifies[u8() % std::size(kNotifies)];
                    const std::uint8_t which = u8();
                    Bytes data(u8() % 9);
                    for (auto& b : data) {
                        b = u8();
                    }
                    const ike::ChildSa* c = child(which);
                    const bool with_spi = (which & 0x80U) != 0 && c != nullptr;
                    out.push_back(wire::make_payload(wire::NotifyPayload{
                            with_spi ? wire::ProtocolId::kEsp : wire::ProtocolId::kNone,
                            with_spi ? spi4(c->spi_out.value()) : Bytes{}, type, std::move(data)}));
                    break;
                }
                case 7: {  // REKEY_SA for one of the engine's Child SAs (our inbound SPI)
                    const ike::ChildSa* c = child(u8());
                    const Spi spi = c != nullptr ? c->spi_out : Spi(0xdeadbeefU);
                    out.push_back(wire::make_payload(wire::NotifyPayload{
                            wire::ProtocolId::kEsp, spi4(spi.value()), NotifyType::kRekeySa, {}}));
                    break;
                }
                case 8: {  // Delete: Child SAs (our inbound SPIs) or the IKE SA
                    const std::uint8_t v = u8();
                    if (v % 8 == 7) {
                        out.push_back(wire::make_payload(
                                wire::DeletePayload{wire::ProtocolId::kIke, {}}));
                        break;
                    }
                    std::vector<Spi> spis;
                    for (std::uint8_t i = 0; i <= v % 3; ++i) {
                        const ike::ChildSa* c = child(static_cast<std::uint8_t>(v + i));
                        spis.push_back(c != nullptr && v % 8 != 6 ? c->spi_out : Spi(0x1234U + i));
                    }
                    out.push_back(wire::make_payload(
                            wire::DeletePayload{wire::ProtocolId::kEsp, std::move(spis)}));
                    break;
                }
                default: {  // RFC 9611 SA_RESOURCE_INFO, with or without an identifier
                    const std::uint8_t v = u8();
                    out.push_back(wire::make_sa_resource_info(
                            v % 3 == 0 ? Bytes{}
                                       : Bytes{0, 0, v, static_cast<std::uint8_t>(v % 3)}));
                    break;
                }
            }
        }
        return out;
    }

    bool engine_initiator_;
    Harness h_;
    Node& engine_;
    std::optional<PeerSide> peer_;
    std::uint32_t next_mid_{0};
    std::uint32_t answered_below_{0};  ///< the engine's requests below this were answered
    std::vector<std::pair<std::uint32_t, ExchangeType>> outstanding_;
    std::size_t seen_{0};
    Bytes last_request_;
};

/// Payload program ops, each [op][arg].
using Ops = std::vector<std::pair<std::uint8_t, std::uint8_t>>;

/// A payload program after a first byte (exchange type, or which request to answer).
Bytes program(const Ops& ops, std::uint8_t first = 0) {
    Bytes p{first};
    for (auto [op, arg] : ops) {
        p.push_back(op);
        p.push_back(arg);
    }
    return p;
}

Record req(ExchangeType type, const Ops& ops) {
    return Record{0, program(ops, static_cast<std::uint8_t>(type))};
}
Record resp(const Ops& ops) {
    return Record{1, program(ops, 0)};
}
Record wait(std::uint8_t seconds) {
    return Record{2, {seconds}};
}
Record event(std::uint8_t what, std::uint8_t arg) {
    return Record{3, {what, arg}};
}

void write_seeds(const std::string& dir) {
    // SA, Nonce, KE, TSi, TSr as a new Child SA carries them; with SA_RESOURCE_INFO.
    const Ops child{{0, 1}, {2, 32}, {3, 3}, {4, 0}, {5, 0}};
    // A group member, with its own SPI (`spi`).
    const auto member = [](std::uint8_t spi) {
        return Ops{{9, 0}, {0, spi}, {2, 32}, {3, 3}, {4, 0}, {5, 0}};
    };
    const Ops rekey_child{{7, 0}, {0, 3}, {2, 32}, {3, 3}, {4, 0}, {5, 0}};
    const Ops rekey_ike{{1, 4}, {2, 32}, {3, 3}};
    constexpr auto kCreate = ExchangeType::kCreateChildSa;
    constexpr auto kInfo = ExchangeType::kInformational;
    const std::vector<std::pair<std::string, std::pair<std::uint8_t, std::vector<Record>>>> seeds{
            // The engine as responder (flags 0; 2: per-CPU child config).
            {"r_new_child", {0, {req(kCreate, child), wait(1)}}},
            {"r_member", {2, {req(kCreate, member(2)), req(kCreate, member(5)), wait(1)}}},
            {"r_members_to_limit",
             {2,
              {req(kCreate, member(2)), req(kCreate, member(5)), req(kCreate, member(6)),
               req(kCreate, member(7)), wait(1)}}},
            {"r_rekey_child", {0, {req(kCreate, rekey_child), wait(1)}}},
            {"r_rekey_ike", {0, {req(kCreate, rekey_ike), wait(10)}}},
            {"r_delete_child", {0, {req(kInfo, {{8, 0}}), wait(1)}}},
            {"r_delete_ike", {0, {req(kInfo, {{8, 7}}), wait(1)}}},
            {"r_dpd", {0, {req(kInfo, {}), Record{5, {}}}}},
            {"r_dpd_answered", {0, {wait(40), resp({}), wait(40)}}},
            // The engine as initiator (flags 1; 3: per-CPU).
            {"i_rekey_child", {1, {event(0, 0), resp(child), wait(1)}}},
            {"i_rekey_ike", {1, {event(1, 0), resp(rekey_ike), wait(10)}}},
            {"i_acquire_member", {3, {event(4, 2), resp(member(2)), wait(1)}}},
            {"i_ts_max_queue", {3, {event(4, 3), resp({{6, 2}}), wait(70)}}},
            {"i_no_rfc9611", {3, {event(4, 1), resp(child), wait(1)}}},
            {"i_delete_child", {1, {event(2, 0), resp({{8, 0}}), wait(1)}}},
            {"i_temporary_failure", {1, {event(0, 0), resp({{6, 4}}), wait(30)}}},
            {"i_lost_peer", {1, {wait(40), wait(200)}}},
            {"i_expire_hard", {1, {event(5, 0x80), resp({{8, 0}}), wait(1)}}},
    };
    for (const auto& [name, seed] : seeds) {
        Bytes bytes{seed.first};  // the flags byte, then the records
        const Bytes rest = fuzz::encode(seed.second);
        bytes.insert(bytes.end(), rest.begin(), rest.end());
        fuzz::write_file(dir + "/" + name, bytes);
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
    (void)fixed();
    fuzz::initialize_engine_target(argc, argv, write_seeds);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    std::optional<Session> session(std::in_place, data[0]);
    Session& s = *session;
    fuzz::forget_setup_coverage();
    fuzz::for_each_record(ByteView(data + 1, size - 1), 64, [&](std::uint8_t kind, ByteView rec) {
        switch (kind % 6) {
            case 0:
                s.request(rec);
                break;
            case 1:
                s.respond(rec);
                break;
            case 2:
                s.harness().run_for(std::chrono::seconds(rec.empty() ? 1 : rec[0]));
                break;
            case 3:
                s.engine_event(rec);
                break;
            case 4:
                s.raw(rec);
                break;
            default:
                s.retransmit();
                break;
        }
    });
    s.harness().run_for(std::chrono::seconds(1));
    // Oracles beyond crashes: the engine never commands its backend nonsense (an SA installed
    // twice, a delete of something it never installed) and never breaks its IKE SA lifecycle.
    if (!s.engine().backend.errors.empty() ||
        s.engine().manager.counters().illegal_transitions != 0) {
        std::abort();
    }
    fuzz::without_coverage([&] { session.reset(); });
    return 0;
}
