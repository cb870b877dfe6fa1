// libFuzzer target: the RADIUS codec and reply checks (src/radius), what a RADIUS server (or
// anyone who can send to the client's socket) controls.
//  1. The input as a packet: whatever decodes re-encodes to exactly its first Length bytes.
//  2. The input as a reply to a fixed request: open_reply() with and without a required
//     Message-Authenticator (must not crash; a forged reply must not pass, which the
//     authenticators make a 2^-128 event).
//  3. Every Vendor-Specific attribute through vendor_attributes(); every attribute value as an
//     MS-MPPE key through decrypt_mppe_key(); msk_from_reply() and eap_message() on the packet.
// Seeds: tests/fuzz/corpus/radius (RFC 2865 §7 packets, an Access-Challenge, an Access-Accept
// with MPPE keys).
#include <cstdint>
#include <cstdlib>

#include "radius/radius.h"
#include "radius/security.h"

namespace {

using ikeplex::Bytes;
using ikeplex::ByteView;
namespace radius = ikeplex::radius;

void require(bool ok) {
    if (!ok) {
        std::abort();
    }
}

const radius::Authenticator kRequestAuth{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView in(data, size);
    const ByteView secret = ikeplex::as_bytes("fuzz-secret");
    auto p = radius::decode(in);
    if (p) {
        const std::size_t length = (static_cast<std::size_t>(in[2]) << 8U) | in[3];
        auto again = radius::encode(*p);
        require(again.has_value());
        require(ikeplex::equal_bytes(*again, in.first(length)));
        (void)radius::eap_message(*p);
        for (const radius::Attribute& a : p->attributes) {
            if (a.type == radius::attr::kVendorSpecific) {
                (void)radius::vendor_attributes(a);
            }
            (void)radius::decrypt_mppe_key(a.value, kRequestAuth, secret);
            (void)radius::value_u32(a);
            (void)radius::value_ipv4(a);
        }
        (void)radius::msk_from_reply(*p, kRequestAuth, secret);
    }
    (void)radius::open_reply(in, kRequestAuth, secret, true);
    (void)radius::open_reply(in, kRequestAuth, secret, false);
    (void)radius::verify_accounting_request(in, secret);
    (void)radius::verify_request_message_authenticator(in, secret);
    return 0;
}
