#include "wire_generators.h"

#include <algorithm>
#include <utility>

namespace ikeplex::test {

using namespace ikeplex::wire;
namespace gen = rc::gen;

namespace {

rc::Gen<Bytes> bytes(std::size_t min, std::size_t max) {
    return gen::mapcat(gen::inRange(min, max + 1), [](std::size_t n) {
        return gen::container<Bytes>(n, gen::arbitrary<std::uint8_t>());
    });
}

/// A vector of min..max values from g.
template <class T>
rc::Gen<std::vector<T>> vec_of(std::size_t min, std::size_t max, rc::Gen<T> g) {
    return gen::mapcat(gen::inRange(min, max + 1),
                       [g](std::size_t n) { return gen::container<std::vector<T>>(n, g); });
}

rc::Gen<Transform> gen_transform() {
    return gen::apply(
            [](std::uint8_t type, std::uint16_t id, std::vector<TransformAttribute> attrs) {
                return Transform{static_cast<TransformType>(type), id, std::move(attrs)};
            },
            gen::arbitrary<std::uint8_t>(), gen::arbitrary<std::uint16_t>(),
            vec_of<TransformAttribute>(
                    0, 3,  // small counts keep messages small
                    gen::apply(
                            [](std::uint16_t type, bool tv, std::uint16_t value, Bytes data) {
                                TransformAttribute a;
                                a.type = static_cast<std::uint16_t>(type & 0x7fffU);
                                a.tv = tv;
                                a.value = tv ? value : 0;
                                a.data = tv ? Bytes{} : std::move(data);
                                return a;
                            },
                            gen::arbitrary<std::uint16_t>(), gen::arbitrary<bool>(),
                            gen::arbitrary<std::uint16_t>(), bytes(0, 8))));
}

rc::Gen<SaPayload> gen_sa() {
    auto proposal = gen::apply(
            [](std::uint8_t num, std::uint8_t proto, Bytes spi, std::vector<Transform> t) {
                return Proposal{num, static_cast<ProtocolId>(proto), std::move(spi), std::move(t)};
            },
            gen::arbitrary<std::uint8_t>(), gen::arbitrary<std::uint8_t>(), bytes(0, 8),
            vec_of<Transform>(1, 5, gen_transform()));
    return gen::map(vec_of<Proposal>(1, 3, proposal),
                    [](std::vector<Proposal> p) { return SaPayload{std::move(p)}; });
}

rc::Gen<TrafficSelector> gen_selector() {
    return gen::mapcat(gen::element(7, 8, 10, 200), [](int type) {
        const std::size_t addr = type == 7 ? 4 : type == 8 ? 16 : 0;
        return gen::apply(
                [type, addr](std::uint8_t proto, std::uint16_t sp, std::uint16_t ep, Bytes a,
                             Bytes b, Bytes opaque) {
                    TrafficSelector ts;
                    ts.type = static_cast<TsType>(type);
                    ts.ip_protocol = proto;
                    if (addr != 0) {
                        ts.start_port = sp;
                        ts.end_port = ep;
                        ts.start_address = std::move(a);
                        ts.end_address = std::move(b);
                    } else {
                        ts.start_port = 0;
                        ts.end_port = 65535;
                        ts.opaque = std::move(opaque);
                    }
                    return ts;
                },
                gen::arbitrary<std::uint8_t>(), gen::arbitrary<std::uint16_t>(),
                gen::arbitrary<std::uint16_t>(), bytes(addr, addr), bytes(addr, addr),
                bytes(0, 12));
    });
}

rc::Gen<NotifyPayload> gen_notify() {
    // Types whose data size RFCs fix get the right size; others get arbitrary data.
    return gen::mapcat(
            gen::element<std::uint16_t>(1, 14, 17, 24, 38, 43, 48, 16384, 16385, 16388, 16389,
                                        16390, 16393, 16430, 16431, 16444, 40000, 12345),
            [](std::uint16_t type) {
                std::size_t min = 0;
                std::size_t max = 16;
                std::size_t spi = 0;
                switch (static_cast<NotifyType>(type)) {
                    case NotifyType::kInvalidKePayload:
                        min = max = 2;
                        break;
                    case NotifyType::kSetWindowSize:
                        min = max = 4;
                        break;
                    case NotifyType::kNatDetectionSourceIp:
                    case NotifyType::kNatDetectionDestinationIp:
                        min = max = 20;
                        break;
                    case NotifyType::kCookie:
                        min = 1;
                        max = 64;
                        break;
                    case NotifyType::kSignatureHashAlgorithms:
                        min = max = 6;
                        break;
                    case NotifyType::kRekeySa:
                        spi = 4;
                        break;
                    default:
                        break;
                }
                return gen::apply(
                        [type](std::uint8_t proto, Bytes s, Bytes data) {
                            return NotifyPayload{static_cast<ProtocolId>(proto % 4), std::move(s),
                                                 static_cast<NotifyType>(type), std::move(data)};
                        },
                        gen::arbitrary<std::uint8_t>(), bytes(spi, spi == 0 ? 8 : spi),
                        bytes(min, max));
            });
}

rc::Gen<DeletePayload> gen_delete() {
    return gen::mapcat(gen::element(1, 2, 3), [](int proto) {
        const std::size_t max = proto == 1 ? 0 : 5;
        return gen::map(vec_of<std::uint32_t>(0, max, gen::arbitrary<std::uint32_t>()),
                        [proto](std::vector<std::uint32_t> v) {
                            DeletePayload d;
                            d.protocol = static_cast<ProtocolId>(proto);
                            for (std::uint32_t s : v) {
                                d.spis.emplace_back(s);
                            }
                            return d;
                        });
    });
}

rc::Gen<EapPayload> gen_eap() {
    return gen::mapcat(gen::element(1, 2, 3, 4, 9), [](int code) {
        const bool typed = code == 1 || code == 2;
        const bool empty = code == 3 || code == 4;
        return gen::apply(
                [code](std::uint8_t id, Bytes data) {
                    return EapPayload{static_cast<EapCode>(code), id, std::move(data)};
                },
                gen::arbitrary<std::uint8_t>(), bytes(typed ? 1 : 0, empty ? 0 : 20));
    });
}

Payload unknown_payload(std::uint8_t type, Bytes body) {
    return Payload{static_cast<PayloadType>(type), false, UnknownPayload{std::move(body)}};
}

}  // namespace

rc::Gen<Payload> gen_plain_payload() {
    auto critical = gen::arbitrary<bool>();
    auto with_crit = [critical](rc::Gen<Payload> g) {
        return gen::apply(
                [](Payload p, bool c) {
                    p.critical = c;
                    return p;
                },
                std::move(g), critical);
    };
    return gen::oneOf(
            with_crit(gen::map(gen_sa(), [](SaPayload p) { return make_payload(std::move(p)); })),
            with_crit(gen::apply(
                    [](std::uint16_t g, Bytes d) {
                        return make_payload(KePayload{g, std::move(d)});
                    },
                    gen::arbitrary<std::uint16_t>(), bytes(0, 64))),
            with_crit(gen::mapcat(
                    gen::element(1, 2, 3, 5, 9, 11, 13, 77),
                    [](int t) {
                        const std::size_t n = t == 1 ? 4 : t == 5 ? 16 : 0;
                        return gen::apply(
                                [t](bool responder, Bytes d) {
                                    IdPayload id{static_cast<IdType>(t), std::move(d)};
                                    return responder ? make_idr(std::move(id))
                                                     : make_idi(std::move(id));
                                },
                                gen::arbitrary<bool>(), n != 0 ? bytes(n, n) : bytes(0, 24));
                    })),
            with_crit(gen::apply(
                    [](std::uint8_t e, Bytes d) {
                        return make_payload(
                                CertPayload{static_cast<CertEncoding>(e), std::move(d)});
                    },
                    gen::arbitrary<std::uint8_t>(), bytes(0, 64))),
            with_crit(gen::apply(
                    [](std::uint8_t e, Bytes d) {
                        return make_payload(
                                CertReqPayload{static_cast<CertEncoding>(e), std::move(d)});
                    },
                    gen::arbitrary<std::uint8_t>(), bytes(0, 40))),
            with_crit(gen::apply(
                    [](std::uint8_t m, Bytes d) {
                        return make_payload(AuthPayload{static_cast<AuthMethod>(m), std::move(d)});
                    },
                    gen::arbitrary<std::uint8_t>(), bytes(0, 64))),
            with_crit(gen::map(bytes(kMinNonceSize, kMaxNonceSize),
                               [](Bytes d) { return make_payload(NoncePayload{std::move(d)}); })),
            with_crit(gen::map(gen_notify(),
                               [](NotifyPayload n) { return make_payload(std::move(n)); })),
            with_crit(gen::map(gen_delete(),
                               [](DeletePayload d) { return make_payload(std::move(d)); })),
            with_crit(
                    gen::map(bytes(0, 32),
                             [](Bytes d) { return make_payload(VendorIdPayload{std::move(d)}); })),
            with_crit(gen::apply(
                    [](bool responder, std::vector<TrafficSelector> s) {
                        TsPayload ts{std::move(s)};
                        return responder ? make_tsr(std::move(ts)) : make_tsi(std::move(ts));
                    },
                    gen::arbitrary<bool>(), vec_of<TrafficSelector>(0, 4, gen_selector()))),
            with_crit(gen::apply(
                    [](std::uint8_t t, std::vector<std::pair<std::uint16_t, Bytes>> attrs) {
                        CpPayload cp{static_cast<CfgType>(t), {}};
                        for (auto& [type, value] : attrs) {
                            cp.attributes.push_back(
                                    {static_cast<std::uint16_t>(type & 0x7fffU), std::move(value)});
                        }
                        return make_payload(std::move(cp));
                    },
                    gen::arbitrary<std::uint8_t>(),
                    vec_of<std::pair<std::uint16_t, Bytes>>(
                            0, 4, gen::pair(gen::arbitrary<std::uint16_t>(), bytes(0, 16))))),
            with_crit(gen::map(gen_eap(), [](EapPayload e) { return make_payload(std::move(e)); })),
            // Unknown payload types, never critical (a critical one does not parse).
            gen::apply(unknown_payload,
                       gen::suchThat(gen::arbitrary<std::uint8_t>(),
                                     [](std::uint8_t t) {
                                         return t != 0 &&
                                                !is_known_payload_type(static_cast<PayloadType>(t));
                                     }),
                       bytes(0, 16)));
}

rc::Gen<std::vector<Payload>> gen_plain_chain() {
    return vec_of<Payload>(0, 8, gen_plain_payload());
}

rc::Gen<Message> gen_message() {
    auto header = gen::apply(
            [](std::uint64_t i, std::uint64_t r, std::uint8_t minor, std::uint8_t ex,
               std::uint8_t flags, std::uint32_t mid) {
                Header h;
                h.spi_i = IkeSpi(i);
                h.spi_r = IkeSpi(r);
                h.minor_version = static_cast<std::uint8_t>(minor & 0x0fU);
                h.exchange = static_cast<ExchangeType>(ex);
                h.flags = flags;
                h.message_id = MessageId(mid);
                return h;
            },
            gen::arbitrary<std::uint64_t>(), gen::arbitrary<std::uint64_t>(),
            gen::arbitrary<std::uint8_t>(), gen::arbitrary<std::uint8_t>(),
            gen::arbitrary<std::uint8_t>(), gen::arbitrary<std::uint32_t>());
    // Optionally an encrypted payload at the end.
    auto tail = gen::oneOf(
            gen::just(std::vector<Payload>{}),
            gen::apply(
                    [](std::uint8_t first, Bytes data) {
                        return std::vector<Payload>{make_payload(
                                SkPayload{static_cast<PayloadType>(first), std::move(data)})};
                    },
                    gen::arbitrary<std::uint8_t>(), bytes(0, 48)),
            gen::apply(
                    [](std::uint8_t first, std::uint16_t total, std::uint16_t number, Bytes data) {
                        const auto t =
                                static_cast<std::uint16_t>(std::max<std::uint16_t>(total, 1));
                        const auto n = static_cast<std::uint16_t>(1 + number % t);
                        return std::vector<Payload>{make_payload(SkfPayload{
                                static_cast<PayloadType>(first), n, t, std::move(data)})};
                    },
                    gen::arbitrary<std::uint8_t>(), gen::arbitrary<std::uint16_t>(),
                    gen::arbitrary<std::uint16_t>(), bytes(0, 48)));
    return gen::apply(
            [](Header h, std::vector<Payload> plain, std::vector<Payload> enc) {
                Message m{h, std::move(plain)};
                m.payloads.insert(m.payloads.end(), enc.begin(), enc.end());
                return m;
            },
            header, gen_plain_chain(), tail);
}

}  // namespace ikeplex::test
