// RADIUS authenticators, Message-Authenticator and hidden attributes (see security.h).
#include "radius/security.h"

#include <algorithm>

#include "crypto/constant_time.h"
#include "crypto/ossl.h"
#include "util/reader.h"
#include "util/writer.h"

namespace ikeplex::radius {

namespace {

constexpr std::size_t kMaOffsetInAttr = 2;  ///< the value after Type and Length

/// The offset of the Message-Authenticator's value in a decoded-and-checked packet, or 0.
/// kBadLength when there is one of another length than 16, kInvalidSyntax for two.
Result<std::size_t> find_message_authenticator(ByteView packet) {
    std::size_t at = 0;
    std::size_t pos = kHeaderSize;
    const std::size_t length = (static_cast<std::size_t>(packet[2]) << 8U) | packet[3];
    while (pos + 2 <= length) {
        const std::uint8_t type = packet[pos];
        const std::uint8_t len = packet[pos + 1];
        if (len < 2) {
            return make_error(Errc::kBadLength, "RADIUS: attribute Length below 2");
        }
        if (type == attr::kMessageAuthenticator) {
            if (len != 2 + kAuthenticatorSize) {
                return make_error(Errc::kBadLength, "RADIUS: Message-Authenticator not 16 bytes");
            }
            if (at != 0) {
                return make_error(Errc::kInvalidSyntax, "RADIUS: two Message-Authenticators");
            }
            at = pos + kMaOffsetInAttr;
        }
        pos += len;
    }
    return at;
}

/// HMAC-MD5 over `packet` with `auth` in the authenticator field and the Message-Authenticator
/// value at `ma_at` zeroed.
Result<Authenticator> message_authenticator(ByteView packet, const Authenticator& auth,
                                            std::size_t ma_at, ByteView secret) {
    Bytes copy(packet.begin(), packet.end());
    std::copy(auth.begin(), auth.end(), copy.begin() + 4);
    std::fill_n(copy.begin() + static_cast<std::ptrdiff_t>(ma_at), kAuthenticatorSize, 0);
    return hmac_md5(secret, copy);
}

bool equal16(const Authenticator& a, ByteView b) {
    return b.size() == kAuthenticatorSize &&
           crypto::constant_time_equal(a.data(), b.data(), kAuthenticatorSize);
}

/// The RFC 2548 / RFC 2865 §5.2 chaining: out(i) = in(i) xor b(i), b(1) = MD5(S | seed),
/// b(i) = MD5(S | c(i-1)) where c is the ciphertext (`in` when decrypting, `out` when
/// encrypting).
Status chain(ByteView in, MutByteView out, ByteView seed, ByteView secret, bool decrypting) {
    Authenticator b = IKEPLEX_TRY(md5({secret, seed}));
    for (std::size_t i = 0; i < in.size(); i += kAuthenticatorSize) {
        for (std::size_t k = 0; k < kAuthenticatorSize; ++k) {
            out[i + k] = static_cast<std::uint8_t>(in[i + k] ^ b[k]);
        }
        const ByteView c = decrypting ? in.subspan(i, kAuthenticatorSize)
                                      : ByteView(out.subspan(i, kAuthenticatorSize));
        b = IKEPLEX_TRY(md5({secret, c}));
    }
    return ok();
}

}  // namespace

Result<Authenticator> md5(std::initializer_list<ByteView> data) {
    const crypto::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx) {
        return make_error(Errc::kCrypto, "RADIUS: no digest context");
    }
    IKEPLEX_TRY(crypto::check(EVP_DigestInit_ex2(ctx.get(), EVP_md5(), nullptr), "MD5: init"));
    for (ByteView d : data) {
        IKEPLEX_TRY(crypto::check(EVP_DigestUpdate(ctx.get(), d.data(), d.size()), "MD5: update"));
    }
    Authenticator out{};
    unsigned int len = 0;
    IKEPLEX_TRY(crypto::check(EVP_DigestFinal_ex(ctx.get(), out.data(), &len), "MD5: final"));
    if (len != out.size()) {
        return make_error(Errc::kCrypto, "MD5: unexpected digest size");
    }
    return out;
}

Result<Authenticator> hmac_md5(ByteView key, ByteView data) {
    Authenticator out{};
    std::size_t len = 0;
    if (EVP_Q_mac(nullptr, "HMAC", nullptr, "MD5", nullptr, key.data(), key.size(), data.data(),
                  data.size(), out.data(), out.size(), &len) == nullptr ||
        len != out.size()) {
        return crypto::openssl_error("HMAC-MD5 failed");
    }
    return out;
}

Result<Bytes> seal_access_request(Packet p, ByteView secret) {
    std::erase_if(p.attributes,
                  [](const Attribute& a) { return a.type == attr::kMessageAuthenticator; });
    p.attributes.push_back(Attribute{attr::kMessageAuthenticator, Bytes(kAuthenticatorSize, 0)});
    Bytes bytes = IKEPLEX_TRY(encode(p));
    const std::size_t ma_at = bytes.size() - kAuthenticatorSize;
    const Authenticator ma = IKEPLEX_TRY(hmac_md5(secret, bytes));
    std::copy(ma.begin(), ma.end(), bytes.begin() + static_cast<std::ptrdiff_t>(ma_at));
    return bytes;
}

Result<Bytes> seal_accounting_request(const Packet& p, ByteView secret) {
    Packet zeroed = p;
    zeroed.authenticator = {};
    Bytes bytes = IKEPLEX_TRY(encode(zeroed));
    const Authenticator auth = IKEPLEX_TRY(md5({bytes, secret}));
    std::copy(auth.begin(), auth.end(), bytes.begin() + 4);
    return bytes;
}

Authenticator request_authenticator(ByteView sealed) {
    Authenticator a{};
    if (sealed.size() >= kHeaderSize) {
        std::copy_n(sealed.begin() + 4, kAuthenticatorSize, a.begin());
    }
    return a;
}

Status verify_accounting_request(ByteView bytes, ByteView secret) {
    const Packet p = IKEPLEX_TRY(decode(bytes));
    const std::size_t length = (static_cast<std::size_t>(bytes[2]) << 8U) | bytes[3];
    Bytes zeroed(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(length));
    std::fill_n(zeroed.begin() + 4, kAuthenticatorSize, 0);
    const Authenticator want = IKEPLEX_TRY(md5({zeroed, secret}));
    if (!equal16(want, p.authenticator)) {
        return make_error(Errc::kIntegrity, "RADIUS: wrong Accounting-Request authenticator");
    }
    return ok();
}

Status verify_request_message_authenticator(ByteView bytes, ByteView secret) {
    const Packet p = IKEPLEX_TRY(decode(bytes));
    const std::size_t ma_at = IKEPLEX_TRY(find_message_authenticator(bytes));
    if (ma_at == 0) {
        return make_error(Errc::kIntegrity, "RADIUS: request without Message-Authenticator");
    }
    const Authenticator want =
            IKEPLEX_TRY(message_authenticator(bytes, p.authenticator, ma_at, secret));
    if (!equal16(want, bytes.subspan(ma_at, kAuthenticatorSize))) {
        return make_error(Errc::kIntegrity, "RADIUS: wrong Message-Authenticator");
    }
    return ok();
}

Result<Packet> open_reply(ByteView bytes, const Authenticator& request_auth, ByteView secret,
                          bool require_message_authenticator) {
    Packet p = IKEPLEX_TRY(decode(bytes));
    const std::size_t length = (static_cast<std::size_t>(bytes[2]) << 8U) | bytes[3];
    const ByteView packet = bytes.first(length);
    const bool access = p.code == Code::kAccessAccept || p.code == Code::kAccessReject ||
                        p.code == Code::kAccessChallenge;
    if (!access && p.code != Code::kAccountingResponse) {
        return make_error(Errc::kInvalidSyntax, "RADIUS: not a reply code", 0,
                          static_cast<std::uint32_t>(p.code));
    }
    const Authenticator want =
            IKEPLEX_TRY(md5({packet.first(4), request_auth, packet.subspan(kHeaderSize), secret}));
    if (!equal16(want, p.authenticator)) {
        return make_error(Errc::kIntegrity, "RADIUS: wrong Response Authenticator");
    }
    const std::size_t ma_at = IKEPLEX_TRY(find_message_authenticator(packet));
    if (ma_at == 0) {
        if (access && require_message_authenticator) {
            return make_error(Errc::kIntegrity, "RADIUS: reply without Message-Authenticator");
        }
        return p;
    }
    const Authenticator ma =
            IKEPLEX_TRY(message_authenticator(packet, request_auth, ma_at, secret));
    if (!equal16(ma, packet.subspan(ma_at, kAuthenticatorSize))) {
        return make_error(Errc::kIntegrity, "RADIUS: wrong Message-Authenticator in the reply");
    }
    return p;
}

Result<Bytes> seal_reply(Packet p, const Authenticator& request_auth, ByteView secret,
                         bool with_message_authenticator) {
    std::erase_if(p.attributes,
                  [](const Attribute& a) { return a.type == attr::kMessageAuthenticator; });
    p.authenticator = request_auth;
    if (with_message_authenticator) {
        p.attributes.push_back(
                Attribute{attr::kMessageAuthenticator, Bytes(kAuthenticatorSize, 0)});
    }
    Bytes bytes = IKEPLEX_TRY(encode(p));
    if (with_message_authenticator) {
        const Authenticator ma = IKEPLEX_TRY(hmac_md5(secret, bytes));
        std::copy(ma.begin(), ma.end(), bytes.end() - kAuthenticatorSize);
    }
    const Authenticator response = IKEPLEX_TRY(md5({bytes, secret}));
    std::copy(response.begin(), response.end(), bytes.begin() + 4);
    return bytes;
}

Result<SecretBytes> decrypt_mppe_key(ByteView value, const Authenticator& request_auth,
                                     ByteView secret) {
    Reader r(value);
    const ByteView salt = IKEPLEX_TRY(r.read_bytes(2, "MS-MPPE key Salt"));
    const ByteView cipher = r.read_rest();
    if (cipher.empty() || cipher.size() % kAuthenticatorSize != 0) {
        return make_error(Errc::kBadLength, "MS-MPPE key: String not a multiple of 16 bytes");
    }
    Bytes seed(request_auth.begin(), request_auth.end());
    seed.insert(seed.end(), salt.begin(), salt.end());
    SecretBytes plain(cipher.size());
    IKEPLEX_TRY(chain(cipher, plain.mut_view(), seed, secret, true));
    const std::size_t key_len = plain.view()[0];
    if (key_len == 0 || key_len + 1 > plain.size()) {
        return make_error(Errc::kIntegrity, "MS-MPPE key: Key-Length does not fit (wrong secret?)");
    }
    return plain.slice(1, key_len);
}

Result<Bytes> encrypt_mppe_key(ByteView key, std::uint16_t salt, const Authenticator& request_auth,
                               ByteView secret) {
    if (key.empty() || key.size() > 239) {
        return make_error(Errc::kInvalidArgument, "MS-MPPE key: length 1..239");
    }
    SecretBytes plain(((key.size() + 1 + kAuthenticatorSize - 1) / kAuthenticatorSize) *
                      kAuthenticatorSize);
    plain.mut_view()[0] = static_cast<std::uint8_t>(key.size());
    std::copy(key.begin(), key.end(), plain.mut_view().begin() + 1);
    Writer w;
    w.write_u16(salt);
    Bytes out = std::move(w).take();
    Bytes seed(request_auth.begin(), request_auth.end());
    seed.insert(seed.end(), out.begin(), out.end());
    out.resize(2 + plain.size());
    IKEPLEX_TRY(chain(plain.view(), MutByteView(out).subspan(2), seed, secret, false));
    return out;
}

Result<SecretBytes> msk_from_reply(const Packet& reply, const Authenticator& request_auth,
                                   ByteView secret) {
    SecretBytes send;
    SecretBytes recv;
    for (const Attribute& a : reply.attributes) {
        if (a.type != attr::kVendorSpecific) {
            continue;
        }
        const auto subs = vendor_attributes(a);
        if (!subs) {
            continue;  // another vendor's layout may differ; only Microsoft's matters here
        }
        for (const VendorAttribute& v : *subs) {
            if (v.vendor != kVendorMicrosoft ||
                (v.type != kMsMppeSendKey && v.type != kMsMppeRecvKey)) {
                continue;
            }
            SecretBytes key = IKEPLEX_TRY(decrypt_mppe_key(v.value, request_auth, secret));
            (v.type == kMsMppeSendKey ? send : recv) = std::move(key);
        }
    }
    if (send.empty() || recv.empty()) {
        return make_error(Errc::kNotFound, "RADIUS: no MS-MPPE-Send-Key and -Recv-Key");
    }
    SecretBytes msk(recv.size() + send.size());
    std::copy(recv.view().begin(), recv.view().end(), msk.mut_view().begin());
    std::copy(send.view().begin(), send.view().end(),
              msk.mut_view().begin() + static_cast<std::ptrdiff_t>(recv.size()));
    return msk;
}

Result<Bytes> hide_password(ByteView password, const Authenticator& request_auth, ByteView secret) {
    if (password.size() > 128) {
        return make_error(Errc::kTooLarge, "User-Password over 128 bytes");
    }
    const std::size_t n =
            std::max<std::size_t>(kAuthenticatorSize, (password.size() + 15) / 16 * 16);
    SecretBytes plain(n);
    std::copy(password.begin(), password.end(), plain.mut_view().begin());
    Bytes out(n);
    IKEPLEX_TRY(chain(plain.view(), out, request_auth, secret, false));
    return out;
}

}  // namespace ikeplex::radius
