// RFC 2759 §8 and RFC 3079 §3.4, written from the RFCs' pseudo-code; the MSK's composition is a
// fact read in strongSwan's eap-mschapv2 (see strongswan_msk in the header).
#include "eap/mschapv2_crypto.h"

#include <initializer_list>
#include <optional>

#include "crypto/legacy.h"
#include "crypto/ossl.h"

namespace ikeplex::eap::mschapv2 {
namespace {

// RFC 2759 §8.7.
constexpr std::string_view kAuthMagic1 = "Magic server to client signing constant";
constexpr std::string_view kAuthMagic2 = "Pad to make it do more than one iteration";
// RFC 3079 §3.4.
constexpr std::string_view kMasterMagic = "This is the MPPE Master Key";
constexpr std::string_view kKeyMagic2 =
        "On the client side, this is the send key; on the server side, it is the receive key.";
constexpr std::string_view kKeyMagic3 =
        "On the client side, this is the receive key; on the server side, it is the send key.";
constexpr std::size_t kShsPadSize = 40;
constexpr std::uint8_t kShsPad2Byte = 0xf2;

constexpr std::size_t kSha1Size = 20;
constexpr std::size_t kKeySize = 16;

/// SHA-1 of the concatenation, into a SecretBytes (some inputs and outputs are keys).
Result<SecretBytes> sha1(std::initializer_list<ByteView> parts) {
    const crypto::EvpMdPtr md(EVP_MD_fetch(nullptr, "SHA1", nullptr));
    const crypto::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!md || !ctx) {
        return crypto::openssl_error("MS-CHAPv2: SHA-1 unavailable");
    }
    IKEPLEX_TRY(crypto::check(EVP_DigestInit_ex2(ctx.get(), md.get(), nullptr), "SHA1: init"));
    for (ByteView p : parts) {
        IKEPLEX_TRY(crypto::check(EVP_DigestUpdate(ctx.get(), p.data(), p.size()), "SHA1: update"));
    }
    SecretBytes out(kSha1Size);
    unsigned int len = 0;
    IKEPLEX_TRY(crypto::check(EVP_DigestFinal_ex(ctx.get(), out.mut_view().data(), &len),
                              "SHA1: final"));
    return out;
}

/// The next code point of strict UTF-8 (no overlongs, surrogates or values past U+10FFFF).
std::optional<char32_t> next_code_point(ByteView s, std::size_t& i) {
    const std::uint8_t b0 = s[i];
    std::size_t extra = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
        ++i;
        return b0;
    }
    if ((b0 & 0xe0U) == 0xc0) {
        extra = 1;
        cp = b0 & 0x1fU;
        min = 0x80;
    } else if ((b0 & 0xf0U) == 0xe0) {
        extra = 2;
        cp = b0 & 0x0fU;
        min = 0x800;
    } else if ((b0 & 0xf8U) == 0xf0) {
        extra = 3;
        cp = b0 & 0x07U;
        min = 0x10000;
    } else {
        return std::nullopt;
    }
    if (i + extra >= s.size()) {
        return std::nullopt;
    }
    for (std::size_t k = 1; k <= extra; ++k) {
        const std::uint8_t b = s[i + k];
        if ((b & 0xc0U) != 0x80) {
            return std::nullopt;
        }
        cp = (cp << 6U) | (b & 0x3fU);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return std::nullopt;
    }
    i += 1 + extra;
    return cp;
}

void put_unit(SecretBytes& out, std::size_t& pos, char32_t unit) {
    out.mut_view()[pos++] = static_cast<std::uint8_t>(unit & 0xffU);
    out.mut_view()[pos++] = static_cast<std::uint8_t>((unit >> 8U) & 0xffU);
}

}  // namespace

Result<SecretBytes> utf16le_password(ByteView utf8) {
    // At most two UTF-16 units (4 bytes) per code point, and a code point takes at least one
    // byte: 4 * size bounds the output; the result is sliced to what was written.
    SecretBytes buf(utf8.size() * 4);
    std::size_t pos = 0;
    for (std::size_t i = 0; i < utf8.size();) {
        const auto cp = next_code_point(utf8, i);
        if (!cp) {
            return make_error(Errc::kInvalidArgument, "MS-CHAPv2: password is not valid UTF-8");
        }
        if (*cp >= 0x10000) {
            const char32_t v = *cp - 0x10000;
            put_unit(buf, pos, 0xd800 + (v >> 10U));
            put_unit(buf, pos, 0xdc00 + (v & 0x3ffU));
        } else {
            put_unit(buf, pos, *cp);
        }
    }
    return buf.slice(0, pos);
}

Result<SecretBytes> nt_password_hash(ByteView utf8) {
    const SecretBytes unicode = IKEPLEX_TRY(utf16le_password(utf8));
    return crypto::legacy::md4(unicode.view());
}

Result<SecretBytes> hash_nt_password_hash(const SecretBytes& password_hash) {
    return crypto::legacy::md4(password_hash.view());
}

std::string_view hash_user_name(std::string_view name) {
    const std::size_t slash = name.find('\\');
    return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

Result<std::array<std::uint8_t, 8>> challenge_hash(ByteView peer_challenge,
                                                   ByteView authenticator_challenge,
                                                   std::string_view user_name) {
    const SecretBytes digest =
            IKEPLEX_TRY(sha1({peer_challenge, authenticator_challenge, as_bytes(user_name)}));
    std::array<std::uint8_t, 8> out{};
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = digest.view()[i];
    }
    return out;
}

std::array<std::uint8_t, 8> expand_des_key(ByteView key7) {
    // The 56 key bits, 7 to an output byte in its upper bits; the low bit makes parity odd.
    std::array<std::uint8_t, 8> out{};
    for (std::size_t i = 0; i < out.size(); ++i) {
        unsigned bits = 0;
        for (std::size_t b = 0; b < 7; ++b) {
            const std::size_t n = i * 7 + b;  // bit n of the 56, most significant first
            const unsigned bit = (key7[n / 8] >> (7U - n % 8U)) & 1U;
            bits = (bits << 1U) | bit;
        }
        unsigned ones = 0;
        for (unsigned v = bits; v != 0; v >>= 1U) {
            ones += v & 1U;
        }
        out[i] = static_cast<std::uint8_t>((bits << 1U) | ((ones % 2U == 0) ? 1U : 0U));
    }
    return out;
}

Result<Bytes> challenge_response(ByteView challenge8, const SecretBytes& password_hash) {
    if (challenge8.size() != 8 || password_hash.size() != kKeySize) {
        return make_error(Errc::kInvalidArgument, "MS-CHAPv2: ChallengeResponse input sizes");
    }
    SecretBytes z(21);  // the password hash, zero-padded to 21 bytes
    for (std::size_t i = 0; i < kKeySize; ++i) {
        z.mut_view()[i] = password_hash.view()[i];
    }
    Bytes out;
    out.reserve(kNtResponseSize);
    for (std::size_t k = 0; k < 3; ++k) {
        std::array<std::uint8_t, 8> key = expand_des_key(z.view().subspan(k * 7, 7));
        auto block = crypto::legacy::des_ecb_encrypt(key, challenge8);
        secure_zero(key);
        if (!block) {
            return block.error();
        }
        out.insert(out.end(), block->begin(), block->end());
    }
    return out;
}

Result<Bytes> generate_nt_response(ByteView authenticator_challenge, ByteView peer_challenge,
                                   std::string_view user_name, const SecretBytes& password_hash) {
    const auto ch = IKEPLEX_TRY(challenge_hash(peer_challenge, authenticator_challenge, user_name));
    return challenge_response(ch, password_hash);
}

Result<Bytes> authenticator_response(const SecretBytes& password_hash_hash, ByteView nt_response,
                                     ByteView peer_challenge, ByteView authenticator_challenge,
                                     std::string_view user_name) {
    const SecretBytes digest =
            IKEPLEX_TRY(sha1({password_hash_hash.view(), nt_response, as_bytes(kAuthMagic1)}));
    const auto ch = IKEPLEX_TRY(challenge_hash(peer_challenge, authenticator_challenge, user_name));
    const SecretBytes out = IKEPLEX_TRY(sha1({digest.view(), ch, as_bytes(kAuthMagic2)}));
    return Bytes(out.view().begin(), out.view().end());
}

std::string authenticator_string(ByteView auth_response) {
    static constexpr std::string_view kDigits = "0123456789ABCDEF";
    std::string s = "S=";
    for (const std::uint8_t b : auth_response) {
        s.push_back(kDigits[b >> 4U]);
        s.push_back(kDigits[b & 0x0fU]);
    }
    return s;
}

Result<SecretBytes> master_key(const SecretBytes& password_hash_hash, ByteView nt_response) {
    const SecretBytes digest =
            IKEPLEX_TRY(sha1({password_hash_hash.view(), nt_response, as_bytes(kMasterMagic)}));
    return digest.slice(0, kKeySize);
}

Result<SecretBytes> asymmetric_start_key(const SecretBytes& master, bool is_send, bool is_server) {
    // RFC 3079 §3.4: the client's send key is the server's receive key (Magic2).
    const std::string_view magic = (is_send != is_server) ? kKeyMagic2 : kKeyMagic3;
    static constexpr std::array<std::uint8_t, kShsPadSize> kPad1{};
    std::array<std::uint8_t, kShsPadSize> pad2{};
    pad2.fill(kShsPad2Byte);
    const SecretBytes digest = IKEPLEX_TRY(sha1({master.view(), kPad1, as_bytes(magic), pad2}));
    return digest.slice(0, kKeySize);
}

Result<Msk> strongswan_msk(const SecretBytes& password_hash_hash, ByteView nt_response) {
    const SecretBytes master = IKEPLEX_TRY(master_key(password_hash_hash, nt_response));
    const SecretBytes receive =
            IKEPLEX_TRY(asymmetric_start_key(master, /*is_send=*/false, /*is_server=*/true));
    const SecretBytes send =
            IKEPLEX_TRY(asymmetric_start_key(master, /*is_send=*/true, /*is_server=*/true));
    Msk msk(kMskSize);  // zero-initialised: the last 32 bytes stay 0
    for (std::size_t i = 0; i < kKeySize; ++i) {
        msk.mut_view()[i] = receive.view()[i];
        msk.mut_view()[kKeySize + i] = send.view()[i];
    }
    return msk;
}

Result<Derived> derive(ByteView authenticator_challenge, ByteView peer_challenge,
                       std::string_view name, ByteView utf8_password) {
    if (authenticator_challenge.size() != kChallengeSize ||
        peer_challenge.size() != kChallengeSize) {
        return make_error(Errc::kInvalidArgument, "MS-CHAPv2: challenges must be 16 bytes");
    }
    const std::string_view user = hash_user_name(name);
    const SecretBytes hash = IKEPLEX_TRY(nt_password_hash(utf8_password));
    const SecretBytes hash_hash = IKEPLEX_TRY(hash_nt_password_hash(hash));
    Derived d;
    d.nt_response =
            IKEPLEX_TRY(generate_nt_response(authenticator_challenge, peer_challenge, user, hash));
    d.auth_response = IKEPLEX_TRY(authenticator_response(hash_hash, d.nt_response, peer_challenge,
                                                         authenticator_challenge, user));
    d.msk = IKEPLEX_TRY(strongswan_msk(hash_hash, d.nt_response));
    return d;
}

}  // namespace ikeplex::eap::mschapv2
