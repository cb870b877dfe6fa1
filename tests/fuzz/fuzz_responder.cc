// libFuzzer target: an IKE responder (the full IkeSaManager with deterministic crypto) fed
// arbitrary input once an IKE SA is established with it.
//
// The IKE SA of each input is made directly from fixed keys (tests/support/established.h), not
// by IKE_SA_INIT and IKE_AUTH: it costs no key exchange and runs no handshake code, so every
// input starts from the same fresh state (a fresh engine, clock and randomness) at a small
// price. The connection and its proposals are built once. The input plays the initiator with
// the IKE SA's keys; what the responder sends is dropped (fuzz_ike_sa answers it).
//
// The input is a list of records [kind][length:2][data] (up to 64 KiB in all: the target adds
// -max_len=65536 unless given another):
//   kind % 4 == 0  a raw datagram from the initiator's address;
//   kind % 4 == 1  an encrypted request: data = [exchange type][first payload][plaintext...],
//                  sealed with the IKE SA's real keys, so arbitrary plaintext reaches the
//                  decryption, payload parser, exchange rules and every responder handler;
//   kind % 4 == 2  one encrypted fragment (RFC 7383): data = [exchange type][first payload]
//                  [fragment number][total fragments][plaintext...]; fragments share the
//                  message id until one with number >= total, so they reach reassembly;
//   kind % 4 == 3  time passes (data[0] seconds; timers fire, answers are delivered).
// Set IKEPLEX_FUZZ_SEEDS_OUT=dir to write the seed corpus (tests/fuzz/corpus/responder) and
// exit.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>

#include "established.h"
#include "exchange_harness.h"
#include "fuzz_records.h"
#include "ike/proposal.h"
#include "wire/message.h"

namespace {

using namespace ikeplex;
using namespace ikeplex::test;
using fuzz::Record;

/// What every input starts from, built once: the two sides' configurations.
struct Fixed {
    PairConfig cfg = psk_pair("aes128gcm16-prfsha256-x25519", "aes128gcm16-x25519");
    Fixed() {
        cfg.a.window_size = 4;
        cfg.b.window_size = 4;
    }
};
const Fixed& fixed() {
    static const Fixed f;
    return f;
}

Record encrypted(wire::ExchangeType type, const std::vector<wire::Payload>& payloads,
                 std::uint8_t kind = 1, Bytes fragment = {}) {
    Bytes d{static_cast<std::uint8_t>(type),
            static_cast<std::uint8_t>(payloads.empty() ? wire::PayloadType::kNone
                                                       : payloads.front().type)};
    d.insert(d.end(), fragment.begin(), fragment.end());
    auto plain = wire::write_payload_chain(payloads);
    if (plain) {
        d.insert(d.end(), plain->begin(), plain->end());
    }
    return Record{kind, std::move(d)};
}

/// The responder (node b) with an IKE SA and its Child SA; the input plays the initiator,
/// with the IKE SA's keys (node a holds nothing; what b sends is dropped).
struct Setup {
    Harness h{1};
    std::optional<PeerSide> peer;
    std::uint32_t next_mid{0};  // the directly made IKE SA starts at message id 0

    Setup() {
        // The harness captures log lines and traces messages for tests; a fuzz run reads none.
        fuzz::quiet_logs();
        h.b().manager.set_trace_messages(false);
        h.drop = [](const Datagram& d) { return !d.from_a; };
        std::vector<ike::PeerConfig> b{fixed().cfg.b};
        h.b().manager.load(std::move(b));
        h.b().manager.set_credentials(psk_credentials());
        auto made = establish_with_peer(h, h.b(), false);
        if (!made) {
            std::abort();  // deterministic; must always work
        }
        peer.emplace(std::move(*made));
    }

    void deliver(ByteView datagram) {
        const Endpoint from{h.a().address, 500};
        const Endpoint to{h.b().address, 500};
        h.act(h.b(), [&](ike::Step& s) { h.b().manager.on_datagram(datagram, to, from, s); });
    }

    [[nodiscard]] wire::Header header(std::uint8_t exchange, std::uint32_t mid) const {
        wire::Header hd;
        hd.spi_i = peer->spi_i;
        hd.spi_r = peer->spi_r;
        hd.exchange = static_cast<wire::ExchangeType>(exchange);
        hd.flags = wire::kFlagInitiator;
        hd.message_id = MessageId(mid);
        return hd;
    }

    void seal_and_deliver(ByteView data) {
        if (data.size() < 2) {
            return;
        }
        const ike::SkCipher& c = peer->seal;
        const ByteView plain = data.subspan(2);
        const Bytes iv(c.iv_size(), 0x5a);
        auto sealed = c.seal(header(data[0], next_mid++), static_cast<wire::PayloadType>(data[1]),
                             plain, iv, c.default_padding(plain.size()));
        if (sealed) {
            deliver(*sealed);
        }
    }

    void seal_fragment_and_deliver(ByteView data) {
        if (data.size() < 4) {
            return;
        }
        const ike::SkCipher& c = peer->seal;
        const std::uint16_t number = data[2];
        const std::uint16_t total = data[3];
        const ByteView plain = data.subspan(4);
        const Bytes iv(c.iv_size(), 0x5a);
        auto sealed =
                c.seal_fragment(header(data[0], next_mid), static_cast<wire::PayloadType>(data[1]),
                                number, total, plain, iv, c.default_padding(plain.size()));
        if (number >= total) {
            ++next_mid;
        }
        if (sealed) {
            deliver(*sealed);
        }
    }
};

void write_seeds(const std::string& dir) {
    Setup s;
    const ike::IkeSa& responder = *s.h.b().manager.sa(s.peer->ike_id);
    const auto& child = *responder.children().front();
    const auto esp = *ike::parse_proposals("aes128gcm16-x25519", wire::ProtocolId::kEsp);
    const auto spi4 = [](std::uint32_t v) {
        return Bytes{static_cast<std::uint8_t>(v >> 24U), static_cast<std::uint8_t>(v >> 16U),
                     static_cast<std::uint8_t>(v >> 8U), static_cast<std::uint8_t>(v)};
    };
    auto offer = esp;
    offer[0].spi = spi4(0x11223344);
    const Bytes nonce(32, 0x42);
    Bytes ke(32, 0x09);                              // the X25519 base point: a valid public value
    const auto tsi = ike::to_wire(child.remote_ts);  // the initiator's view
    const auto tsr = ike::to_wire(child.local_ts);
    const std::vector<wire::Payload> new_child{wire::make_payload(wire::SaPayload{offer}),
                                               wire::make_payload(wire::NoncePayload{nonce}),
                                               wire::make_payload(wire::KePayload{31, ke}),
                                               wire::make_tsi(tsi), wire::make_tsr(tsr)};
    std::vector<std::pair<std::string, std::vector<Record>>> seeds;
    seeds.push_back({"dpd", {encrypted(wire::ExchangeType::kInformational, {})}});
    seeds.push_back({"delete_child",
                     {encrypted(wire::ExchangeType::kInformational,
                                {wire::make_payload(wire::DeletePayload{wire::ProtocolId::kEsp,
                                                                        {child.spi_out}})})}});
    seeds.push_back(
            {"delete_ike",
             {encrypted(wire::ExchangeType::kInformational,
                        {wire::make_payload(wire::DeletePayload{wire::ProtocolId::kIke, {}})})}});
    seeds.push_back({"new_child",
                     {encrypted(wire::ExchangeType::kCreateChildSa, new_child), Record{3, {5}}}});
    seeds.push_back({"rekey_child",
                     {encrypted(wire::ExchangeType::kCreateChildSa,
                                {wire::make_payload(wire::NotifyPayload{wire::ProtocolId::kEsp,
                                                                        spi4(child.spi_out.value()),
                                                                        wire::NotifyType::kRekeySa,
                                                                        {}}),
                                 wire::make_payload(wire::SaPayload{offer}),
                                 wire::make_payload(wire::NoncePayload{nonce}),
                                 wire::make_payload(wire::KePayload{31, ke}), wire::make_tsi(tsi),
                                 wire::make_tsr(tsr)})}});
    auto ike = *ike::parse_proposals("aes128gcm16-prfsha256-x25519", wire::ProtocolId::kIke);
    ike[0].spi = Bytes{1, 2, 3, 4, 5, 6, 7, 8};
    seeds.push_back({"rekey_ike",
                     {encrypted(wire::ExchangeType::kCreateChildSa,
                                {wire::make_payload(wire::SaPayload{ike}),
                                 wire::make_payload(wire::NoncePayload{nonce}),
                                 wire::make_payload(wire::KePayload{31, ke})}),
                      Record{3, {10}}}});
    seeds.push_back({"timers", {Record{3, {200}}, Record{3, {200}}}});
    // A raw datagram: an IKE_SA_INIT request as the initiator would send it.
    {
        Harness other(2);
        PairConfig cfg = fixed().cfg;
        load(other, cfg, psk_credentials(), psk_credentials());
        other.act(other.a(),
                  [&](ike::Step& st) { (void)other.a().manager.initiate("conn", "net", st); });
        seeds.push_back({"replayed_init", {Record{0, other.sent.front().data}}});
    }
    // A CREATE_CHILD_SA request in three encrypted fragments (RFC 7383 reassembly).
    {
        auto plain = wire::write_payload_chain(new_child);
        const Bytes& p = *plain;
        const std::size_t third = p.size() / 3;
        std::vector<Record> frags;
        for (std::uint8_t n = 1; n <= 3; ++n) {
            Bytes d{static_cast<std::uint8_t>(wire::ExchangeType::kCreateChildSa),
                    static_cast<std::uint8_t>(n == 1 ? wire::PayloadType::kSa
                                                     : wire::PayloadType::kNone),
                    n, 3};
            const std::size_t from = (n - 1) * third;
            const std::size_t to = n == 3 ? p.size() : n * third;
            d.insert(d.end(), p.begin() + static_cast<std::ptrdiff_t>(from),
                     p.begin() + static_cast<std::ptrdiff_t>(to));
            frags.push_back(Record{2, std::move(d)});
        }
        frags.push_back(Record{3, {5}});
        seeds.push_back({"fragmented_new_child", std::move(frags)});
    }
    fuzz::write_seeds(dir, seeds);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
    (void)fixed();
    fuzz::initialize_engine_target(argc, argv, write_seeds);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::optional<Setup> setup(std::in_place);
    Setup& s = *setup;
    fuzz::forget_setup_coverage();
    fuzz::for_each_record(ByteView(data, size), 64, [&](std::uint8_t kind, ByteView rec) {
        switch (kind % 4) {
            case 0:
                s.deliver(rec);
                break;
            case 1:
                s.seal_and_deliver(rec);
                break;
            case 2:
                s.seal_fragment_and_deliver(rec);
                break;
            default:
                s.h.run_for(std::chrono::seconds(rec.empty() ? 1 : rec[0]));
                break;
        }
    });
    s.h.run_for(std::chrono::seconds(1));
    // Oracle beyond crashes: the engine never commands its backend nonsense (an SA installed
    // twice, a delete of something it never installed).
    if (!s.h.b().backend.errors.empty()) {
        std::abort();
    }
    fuzz::without_coverage([&] { setup.reset(); });
    return 0;
}
