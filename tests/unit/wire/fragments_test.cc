// Truncation at every field boundary yields that field's error (QUICHE PacketFragments,
// anchors.md A.2), for every payload the codec implements. See tests/support/fragments.h.
#include "fragments.h"

#include <gtest/gtest.h>

#include "wire/message.h"

namespace ikeplex::wire {
namespace {

using test::check_boundaries;
using test::Fragment;
using test::Fragments;

constexpr const char* kPastEnd = "payload chain: next payload announced past the end";

Bytes u16(std::uint16_t v) {
    return {static_cast<std::uint8_t>(v >> 8U), static_cast<std::uint8_t>(v)};
}
Bytes u32(std::uint32_t v) {
    return {static_cast<std::uint8_t>(v >> 24U), static_cast<std::uint8_t>(v >> 16U),
            static_cast<std::uint8_t>(v >> 8U), static_cast<std::uint8_t>(v)};
}
Bytes fill(std::size_t n, std::uint8_t v) {
    return Bytes(n, v);
}

/// Sets every length field to the real size of what it counts (fragments are written with 0).
Fragments with_lengths(Fragments f) {
    std::vector<std::size_t> start(f.size() + 1, 0);
    for (std::size_t i = 0; i < f.size(); ++i) {
        start[i + 1] = start[i] + f[i].bytes.size();
    }
    // A length counts to the end of its structure: the next fragment whose start is the end of
    // the structure is unknown here, so each length fragment names its end by the fragment
    // index stored in the placeholder value (the bytes hold the index of the first fragment
    // after the structure).
    for (std::size_t i = 0; i < f.size(); ++i) {
        if (f[i].counts_from < 0) {
            continue;
        }
        std::size_t end_index = 0;
        for (std::uint8_t b : f[i].bytes) {
            end_index = (end_index << 8U) | b;
        }
        const std::size_t len =
                start[end_index] - start[static_cast<std::size_t>(f[i].counts_from)];
        for (std::size_t k = f[i].bytes.size(); k-- > 0;) {
            f[i].bytes[k] = static_cast<std::uint8_t>(len >> (8 * (f[i].bytes.size() - 1 - k)));
        }
    }
    return f;
}

Status parse_whole(ByteView data) {
    IKEPLEX_TRY(parse_message(data));
    return ok();
}

// In the tables below a length fragment holds, as a placeholder, the index of the first
// fragment after the structure it measures; with_lengths() turns that into the real length.
TEST(Fragments, IkeSaInitMessage) {
    const Fragments f = with_lengths({
            /*0*/ {"header: initiator SPI", fill(8, 0x11)},
            /*1*/ {"header: responder SPI", fill(8, 0)},
            /*2*/ {"header: next payload", {33}},
            /*3*/ {"header: version", {0x20}},
            /*4*/ {"header: exchange type", {34}},
            /*5*/ {"header: flags", {0x08}},
            /*6*/ {"header: message id", u32(0)},
            /*7*/ {"header: length", u32(57), 0},
            // SA
            /*8*/ {kPastEnd, {34}},
            /*9*/ {"payload header: flags", {0}},
            /*10*/ {"payload header: length", u16(35), 8},
            /*11*/ {"SA: no proposal", {0}},
            /*12*/ {"SA proposal: reserved", {0}},
            /*13*/ {"SA proposal: length", u16(35), 11},
            /*14*/ {"SA proposal: number", {1}},
            /*15*/ {"SA proposal: protocol id", {1}},
            /*16*/ {"SA proposal: SPI size", {0}},
            /*17*/ {"SA proposal: transform count", {2}},
            /*18*/ {"SA proposal: no transform", {3}},
            /*19*/ {"SA transform: reserved", {0}},
            /*20*/ {"SA transform: length", u16(26), 18},
            /*21*/ {"SA transform: type", {1}},
            /*22*/ {"SA transform: reserved after type", {0}},
            /*23*/ {"SA transform: id", u16(12)},
            /*24*/
            {"SA attribute: type",
             {0x80, 0x0e},
             -1,
             "SA transform: proposal ends before its last transform"},
            /*25*/ {"SA attribute: value", u16(128)},
            /*26*/ {"SA transform: proposal ends before its last transform", {0}},
            /*27*/ {"SA transform: reserved", {0}},
            /*28*/ {"SA transform: length", u16(35), 26},
            /*29*/ {"SA transform: type", {2}},
            /*30*/ {"SA transform: reserved after type", {0}},
            /*31*/ {"SA transform: id", u16(5)},
            /*32*/ {"SA attribute: type", {0x01, 0x23}, -1, kPastEnd},
            /*33*/ {"SA attribute: length", u16(35), 34},
            /*34*/ {kPastEnd, {0xab, 0xcd}},
            // KE
            /*35*/ {kPastEnd, {40}},
            /*36*/ {"payload header: flags", {0}},
            /*37*/ {"payload header: length", u16(41), 35},
            /*38*/ {"KE: group", u16(31)},
            /*39*/ {"KE: reserved", u16(0)},
            /*40*/ {kPastEnd, fill(32, 0x22)},
            // Nonce
            /*41*/ {kPastEnd, {41}},
            /*42*/ {"payload header: flags", {0}},
            /*43*/ {"payload header: length", u16(46), 41},
            /*44*/ {"Nonce: size outside 16..256 bytes", fill(16, 0x33)},
            /*45*/ {kPastEnd, fill(16, 0x34)},
            // N(NAT_DETECTION_SOURCE_IP)
            /*46*/ {kPastEnd, {43}},
            /*47*/ {"payload header: flags", {0}},
            /*48*/ {"payload header: length", u16(53), 46},
            /*49*/ {"Notify: protocol id", {0}},
            /*50*/ {"Notify: SPI size", {0}},
            /*51*/ {"Notify: message type", u16(16388)},
            /*52*/ {"Notify: NAT_DETECTION_* data is not 20 bytes", fill(20, 0x44)},
            // V (last)
            /*53*/ {kPastEnd, {0}},
            /*54*/ {"payload header: flags", {0}},
            /*55*/ {"payload header: length", u16(57), 53},
            /*56*/ {"", fill(8, 0x55)},
    });
    check_boundaries(f, parse_whole);
}

Status parse_inner_from_idi(ByteView data) {
    IKEPLEX_TRY(parse_payload_chain(PayloadType::kIdi, data));
    return ok();
}

TEST(Fragments, IkeAuthInnerPayloads) {
    const Fragments f = with_lengths({
            // IDi
            /*0*/ {kPastEnd, {37}},
            /*1*/ {"payload header: flags", {0}},
            /*2*/ {"payload header: length", u16(6), 0},
            /*3*/ {"ID: type", {2}},
            /*4*/ {"ID: reserved", fill(3, 0)},
            /*5*/ {kPastEnd, {'a', '.', 't', 'e', 's', 't'}},
            // CERT
            /*6*/ {kPastEnd, {38}},
            /*7*/ {"payload header: flags", {0}},
            /*8*/ {"payload header: length", u16(11), 6},
            /*9*/ {"CERT: encoding", {4}},
            /*10*/ {kPastEnd, fill(10, 0x30)},
            // CERTREQ
            /*11*/ {kPastEnd, {39}},
            /*12*/ {"payload header: flags", {0}},
            /*13*/ {"payload header: length", u16(16), 11},
            /*14*/ {"CERTREQ: encoding", {4}},
            /*15*/ {kPastEnd, fill(20, 0x31)},
            // AUTH
            /*16*/ {kPastEnd, {44}},
            /*17*/ {"payload header: flags", {0}},
            /*18*/ {"payload header: length", u16(22), 16},
            /*19*/ {"AUTH: method", {2}},
            /*20*/ {"AUTH: reserved", fill(3, 0)},
            /*21*/ {kPastEnd, fill(32, 0x32)},
            // TSi: one IPv4 and one IPv6 range
            /*22*/ {kPastEnd, {42}},
            /*23*/ {"payload header: flags", {0}},
            /*24*/ {"payload header: length", u16(41), 22},
            /*25*/ {"TS: number of TSs", {2}},
            /*26*/ {"TS: reserved", fill(3, 0)},
            /*27*/ {"TS: fewer selectors than the number of TSs", {7}},
            /*28*/ {"TS: IP protocol id", {0}},
            /*29*/ {"TS: selector length", u16(34), 27},
            /*30*/ {"TS: start port", u16(0)},
            /*31*/ {"TS: end port", u16(65535)},
            /*32*/ {"TS: starting address", {10, 99, 1, 0}},
            /*33*/ {"TS: ending address", {10, 99, 1, 255}},
            /*34*/ {"TS: fewer selectors than the number of TSs", {8}},
            /*35*/ {"TS: IP protocol id", {6}},
            /*36*/ {"TS: selector length", u16(41), 34},
            /*37*/ {"TS: start port", u16(443)},
            /*38*/ {"TS: end port", u16(443)},
            /*39*/ {"TS: starting address", fill(16, 0x20)},
            /*40*/ {"TS: ending address", fill(16, 0x21)},
            // D (ESP, two SPIs)
            /*41*/ {kPastEnd, {47}},
            /*42*/ {"payload header: flags", {0}},
            /*43*/ {"payload header: length", u16(48), 41},
            /*44*/ {"Delete: protocol id", {3}},
            /*45*/ {"Delete: SPI size", {4}},
            /*46*/ {"Delete: number of SPIs", u16(2)},
            /*47*/ {"Delete: SPI count disagrees with the payload length", fill(8, 0x77)},
            // CP with one attribute
            /*48*/ {kPastEnd, {48}},
            /*49*/ {"payload header: flags", {0}},
            /*50*/ {"payload header: length", u16(56), 48},
            /*51*/ {"CP: CFG type", {1}},
            /*52*/ {"CP: reserved", fill(3, 0)},
            /*53*/ {"CP attribute: type", u16(1), -1, kPastEnd},
            /*54*/ {"CP attribute: length", u16(56), 55},
            /*55*/ {kPastEnd, {10, 99, 1, 5}},
            // EAP response, type MD5 (last payload)
            /*56*/ {kPastEnd, {0}},
            /*57*/ {"payload header: flags", {0}},
            /*58*/ {"payload header: length", u16(65), 56},
            /*59*/ {"EAP: code", {2}},
            /*60*/ {"EAP: identifier", {7}},
            /*61*/ {"EAP: length", u16(65), 59},
            /*62*/ {"EAP: request or response without a type", {4}},
            /*63*/ {"", {0x10}},
            /*64*/ {"", fill(16, 0x66)},
    });
    check_boundaries(f, parse_inner_from_idi);
}

TEST(Fragments, EncryptedFragmentMessage) {
    const Fragments f = with_lengths({
            /*0*/ {"header: initiator SPI", fill(8, 0x11)},
            /*1*/ {"header: responder SPI", fill(8, 0x12)},
            /*2*/ {"header: next payload", {53}},
            /*3*/ {"header: version", {0x20}},
            /*4*/ {"header: exchange type", {35}},
            /*5*/ {"header: flags", {0x08}},
            /*6*/ {"header: message id", u32(1)},
            /*7*/ {"header: length", u32(14), 0},
            /*8*/ {kPastEnd, {35}},
            /*9*/ {"payload header: flags", {0}},
            /*10*/ {"payload header: length", u16(14), 8},
            /*11*/ {"SKF: fragment number", u16(1)},
            /*12*/ {"SKF: total fragments", u16(3)},
            /*13*/ {"", fill(40, 0x99)},
    });
    check_boundaries(f, parse_whole);
}

TEST(Fragments, EncryptedMessage) {
    const Fragments f = with_lengths({
            /*0*/ {"header: initiator SPI", fill(8, 0x11)},
            /*1*/ {"header: responder SPI", fill(8, 0x12)},
            /*2*/ {"header: next payload", {46}},
            /*3*/ {"header: version", {0x20}},
            /*4*/ {"header: exchange type", {37}},
            /*5*/ {"header: flags", {0x20}},
            /*6*/ {"header: message id", u32(9)},
            /*7*/ {"header: length", u32(12), 0},
            /*8*/ {kPastEnd, {41}},
            /*9*/ {"payload header: flags", {0}},
            /*10*/ {"payload header: length", u16(12), 8},
            /*11*/ {"", fill(48, 0x98)},
    });
    check_boundaries(f, parse_whole);
}

}  // namespace
}  // namespace ikeplex::wire
