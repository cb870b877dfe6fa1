// libFuzzer target: an IKE responder (the full IkeSaManager with deterministic crypto) fed
// arbitrary input after a real IKE SA was set up with it by a real initiator.
//
// The input is a list of records [kind][length:2][data]:
//   kind % 3 == 0  a raw datagram from the initiator's address;
//   kind % 3 == 1  an encrypted request: data = [exchange type][first payload][plaintext...],
//                  sealed with the IKE SA's real keys, so arbitrary plaintext reaches the
//                  decryption, payload parser, exchange rules and every responder handler;
//   kind % 3 == 2  time passes (data[0] seconds; timers fire, answers are delivered).
// Set IKEPLEX_FUZZ_SEEDS_OUT=dir to write a seed corpus of meaningful records and exit.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "exchange_harness.h"
#include "ike/proposal.h"
#include "log_capture.h"
#include "wire/message.h"

namespace {

using namespace ikeplex;
using namespace ikeplex::test;

struct Record {
    std::uint8_t kind;
    Bytes data;
};

Bytes encode(const std::vector<Record>& records) {
    Bytes out;
    for (const Record& r : records) {
        out.push_back(r.kind);
        out.push_back(static_cast<std::uint8_t>(r.data.size() >> 8U));
        out.push_back(static_cast<std::uint8_t>(r.data.size()));
        out.insert(out.end(), r.data.begin(), r.data.end());
    }
    return out;
}

Record encrypted(wire::ExchangeType type, const std::vector<wire::Payload>& payloads) {
    Bytes d{static_cast<std::uint8_t>(type),
            static_cast<std::uint8_t>(payloads.empty() ? wire::PayloadType::kNone
                                                       : payloads.front().type)};
    auto plain = wire::write_payload_chain(payloads);
    if (plain) {
        d.insert(d.end(), plain->begin(), plain->end());
    }
    return Record{1, std::move(d)};
}

/// The responder side after a successful IKE_SA_INIT/IKE_AUTH, and the initiator's keys.
struct Setup {
    Harness h{1};
    PairConfig cfg = psk_pair("aes128gcm16-prfsha256-x25519", "aes128gcm16-x25519");
    ike::IkeSa* initiator{nullptr};  // valid right after establish(); later see current()
    std::uint32_t next_mid{2};       // after IKE_SA_INIT (0) and IKE_AUTH (1)
    std::uint32_t sa_id{0};

    /// The initiator's IKE SA as it is now (a rekey may have replaced it; message ids then
    /// start again at 0).
    ike::IkeSa* current() {
        auto est = h.a().established();
        if (est.empty()) {
            return nullptr;
        }
        if (est.front()->id() != sa_id) {
            sa_id = est.front()->id();
            next_mid = 0;
        }
        return h.a().manager.find(sa_id);
    }

    bool establish() {
        cfg.a.window_size = 4;
        cfg.b.window_size = 4;
        load(h, cfg, psk_credentials(), psk_credentials());
        h.act(h.a(), [&](ike::Step& s) { (void)h.a().manager.initiate("conn", "net", s); });
        if (!h.run_until(
                    [&] { return !h.a().established().empty() && !h.b().established().empty(); },
                    std::chrono::seconds(10))) {
            return false;
        }
        sa_id = h.a().established().front()->id();
        initiator = h.a().manager.find(sa_id);
        return initiator != nullptr;
    }

    void deliver(ByteView datagram) {
        const Endpoint from{h.a().address, 500};
        const Endpoint to{h.b().address, 500};
        h.act(h.b(), [&](ike::Step& s) { h.b().manager.on_datagram(datagram, to, from, s); });
    }

    void seal_and_deliver(ByteView data) {
        ike::IkeSa* sa = current();
        if (data.size() < 2 || sa == nullptr || !sa->crypto()) {
            return;
        }
        wire::Header hd;
        hd.spi_i = sa->spi_i();
        hd.spi_r = sa->spi_r();
        hd.exchange = static_cast<wire::ExchangeType>(data[0]);
        hd.flags = sa->is_original_initiator() ? wire::kFlagInitiator : 0;
        hd.message_id = MessageId(next_mid++);
        const ike::SkCipher& c = sa->crypto()->out;
        const ByteView plain = data.subspan(2);
        const Bytes iv(c.iv_size(), 0x5a);
        auto sealed = c.seal(hd, static_cast<wire::PayloadType>(data[1]), plain, iv,
                             c.default_padding(plain.size()));
        if (sealed) {
            deliver(*sealed);
        }
    }
};

void write_seeds(const char* dir) {
    Setup s;
    if (!s.establish()) {
        std::abort();
    }
    const auto& child = *s.initiator->children().front();
    const auto esp = *ike::parse_proposals("aes128gcm16-x25519", wire::ProtocolId::kEsp);
    const auto spi4 = [](std::uint32_t v) {
        return Bytes{static_cast<std::uint8_t>(v >> 24U), static_cast<std::uint8_t>(v >> 16U),
                     static_cast<std::uint8_t>(v >> 8U), static_cast<std::uint8_t>(v)};
    };
    auto offer = esp;
    offer[0].spi = spi4(0x11223344);
    const Bytes nonce(32, 0x42);
    Bytes ke(32, 0x09);  // the X25519 base point: a valid public value
    const auto tsi = ike::to_wire(child.local_ts);
    const auto tsr = ike::to_wire(child.remote_ts);
    std::vector<std::pair<std::string, std::vector<Record>>> seeds;
    seeds.push_back({"dpd", {encrypted(wire::ExchangeType::kInformational, {})}});
    seeds.push_back({"delete_child",
                     {encrypted(wire::ExchangeType::kInformational,
                                {wire::make_payload(wire::DeletePayload{wire::ProtocolId::kEsp,
                                                                        {child.spi_in}})})}});
    seeds.push_back(
            {"delete_ike",
             {encrypted(wire::ExchangeType::kInformational,
                        {wire::make_payload(wire::DeletePayload{wire::ProtocolId::kIke, {}})})}});
    seeds.push_back({"new_child",
                     {encrypted(wire::ExchangeType::kCreateChildSa,
                                {wire::make_payload(wire::SaPayload{offer}),
                                 wire::make_payload(wire::NoncePayload{nonce}),
                                 wire::make_payload(wire::KePayload{31, ke}), wire::make_tsi(tsi),
                                 wire::make_tsr(tsr)}),
                      Record{2, {5}}}});
    seeds.push_back({"rekey_child",
                     {encrypted(wire::ExchangeType::kCreateChildSa,
                                {wire::make_payload(wire::NotifyPayload{wire::ProtocolId::kEsp,
                                                                        spi4(child.spi_in.value()),
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
                      Record{2, {10}}}});
    seeds.push_back({"timers", {Record{2, {200}}, Record{2, {200}}}});
    // A raw datagram: the initiator's own (replayed) IKE_SA_INIT.
    seeds.push_back({"replayed_init", {Record{0, s.h.sent.front().data}}});
    for (const auto& [name, records] : seeds) {
        const Bytes bytes = encode(records);
        std::ofstream f(std::string(dir) + "/" + name, std::ios::binary);
        f.write(reinterpret_cast<const char*>(bytes.data()),
                static_cast<std::streamsize>(bytes.size()));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool once = [] {
        LogCapture::quiet();
        spdlog::set_level(spdlog::level::off);
        if (const char* dir = std::getenv("IKEPLEX_FUZZ_SEEDS_OUT")) {
            write_seeds(dir);
            std::_Exit(0);
        }
        return true;
    }();
    (void)once;
    Setup s;
    if (!s.establish()) {
        std::abort();  // the set-up itself is deterministic and must work
    }
    const ByteView in(data, size);
    std::size_t pos = 0;
    int records = 0;
    while (pos + 3 <= in.size() && records++ < 64) {
        const std::uint8_t kind = in[pos];
        const std::size_t len = std::min<std::size_t>(
                (std::size_t{in[pos + 1]} << 8U) | in[pos + 2], in.size() - pos - 3);
        const ByteView rec = in.subspan(pos + 3, len);
        pos += 3 + len;
        switch (kind % 3) {
            case 0:
                s.deliver(rec);
                break;
            case 1:
                s.seal_and_deliver(rec);
                break;
            default:
                s.h.run_for(std::chrono::seconds(rec.empty() ? 1 : rec[0]));
                break;
        }
    }
    s.h.run_for(std::chrono::seconds(1));
    // Oracle beyond crashes: the engine never commands its backend nonsense (an SA installed
    // twice, a delete of something it never installed).
    if (!s.h.a().backend.errors.empty() || !s.h.b().backend.errors.empty()) {
        std::abort();
    }
    return 0;
}
