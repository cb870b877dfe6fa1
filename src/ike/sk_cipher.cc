#include "ike/sk_cipher.h"

#include <algorithm>

#include "crypto/cbc.h"
#include "crypto/constant_time.h"
#include "crypto/prf.h"
#include "wire/notify_codes.h"

namespace ikeplex::ike {

using crypto::aes_cbc;
using crypto::constant_time_equal;
using crypto::integrity_mac;
namespace {

/// Where the encrypted part of the last payload starts: IV offset.
struct SkLayout {
    std::size_t iv_offset;
    std::size_t end;  // datagram size
};

Result<SkLayout> layout_of(ByteView datagram, const wire::Message& parsed) {
    if (const auto* sk = parsed.sk()) {
        return SkLayout{datagram.size() - sk->data.size(), datagram.size()};
    }
    if (const auto* skf = parsed.skf()) {
        return SkLayout{datagram.size() - skf->data.size(), datagram.size()};
    }
    return make_error(Errc::kInvalidArgument, "SK: message has no encrypted payload");
}

}  // namespace

Result<SkCipher> SkCipher::create(const crypto::Registry& registry, const crypto::EncrInfo& encr,
                                  const crypto::IntegInfo* integ, ByteView encr_key,
                                  ByteView integ_key) {
    if (encr_key.size() != encr.key_size) {
        return make_error(Errc::kInvalidArgument, "SK: wrong encryption key size");
    }
    SkCipher c;
    c.registry_ = &registry;
    c.encr_ = &encr;
    if (!encr.aead) {
        if (integ == nullptr || integ_key.size() != integ->key_size) {
            return make_error(Errc::kInvalidArgument, "SK: CBC needs an integrity key");
        }
        c.integ_ = integ;
        c.integ_key_ = SecretBytes::copy_of(integ_key);
    }
    c.encr_key_ = SecretBytes::copy_of(encr_key);
    return c;
}

std::size_t SkCipher::icv_size() const noexcept {
    return encr_->aead ? encr_->icv_size : integ_->icv_size;
}

Bytes SkCipher::default_padding(std::size_t plaintext_size) const {
    const std::size_t b = encr_->block_size;
    const std::size_t n = (b - (plaintext_size + 1) % b) % b;
    // NOLINTNEXTLINE(modernize-return-braced-init-list): n zeros, not a list {n, 0}
    return Bytes(n, 0);
}

std::size_t SkCipher::overhead(std::size_t padding_size) const noexcept {
    return wire::kPayloadHeaderSize + iv_size() + padding_size + 1 + icv_size();
}

Result<Bytes> SkCipher::seal(const wire::Header& header, wire::PayloadType first_inner,
                             ByteView plaintext, ByteView iv, ByteView padding) const {
    wire::Message shell{header, {wire::make_payload(wire::SkPayload{first_inner, {}})}};
    return seal_message(std::move(shell), plaintext, iv, padding);
}

Result<Bytes> SkCipher::seal_fragment(const wire::Header& header, wire::PayloadType first_inner,
                                      std::uint16_t number, std::uint16_t total, ByteView plaintext,
                                      ByteView iv, ByteView padding) const {
    wire::Message shell{header,
                        {wire::make_payload(wire::SkfPayload{first_inner, number, total, {}})}};
    return seal_message(std::move(shell), plaintext, iv, padding);
}

Result<Bytes> SkCipher::seal_message(wire::Message&& shell, ByteView plaintext, ByteView iv,
                                     ByteView padding) const {
    if (iv.size() != iv_size()) {
        return make_error(Errc::kInvalidArgument, "SK: wrong IV size");
    }
    if (padding.size() > 255 || (plaintext.size() + padding.size() + 1) % encr_->block_size != 0) {
        return make_error(Errc::kInvalidArgument, "SK: padding breaks the block alignment");
    }
    // Reserve IV | payloads | padding | pad length | ICV in the payload, then fill it in place
    // so the header's Length and the payload lengths are final before anything is protected.
    const std::size_t body = iv.size() + plaintext.size() + padding.size() + 1;
    Bytes* data = nullptr;
    if (auto* sk = shell.payloads.back().as<wire::SkPayload>()) {
        data = &sk->data;
    } else {
        data = &shell.payloads.back().as<wire::SkfPayload>()->data;
    }
    data->assign(body + icv_size(), 0);
    Bytes out = IKEPLEX_TRY(wire::write_message(shell));
    const std::size_t iv_at = out.size() - data->size();
    std::copy(iv.begin(), iv.end(), out.begin() + static_cast<std::ptrdiff_t>(iv_at));
    std::uint8_t* p = out.data() + iv_at + iv.size();
    std::copy(plaintext.begin(), plaintext.end(), p);
    std::copy(padding.begin(), padding.end(), p + plaintext.size());
    p[plaintext.size() + padding.size()] = static_cast<std::uint8_t>(padding.size());
    const MutByteView encrypted(p, body - iv.size());
    const MutByteView icv(out.data() + out.size() - icv_size(), icv_size());

    if (encr_->aead) {
        // RFC 5282 §5.1: A = header through the SK (or SKF) payload header, IV excluded.
        if (!crypto::aead_seal_once(*encr_, encr_key_.view(), iv, ByteView(out).first(iv_at),
                                    encrypted, icv)) {
            return make_error(Errc::kCrypto, "SK: AEAD seal failed");
        }
        return out;
    }
    IKEPLEX_TRY(aes_cbc(*encr_, encr_key_.view(), iv, encrypted, true));
    // RFC 7296 §3.14: the ICV covers the whole message up to (not including) the ICV.
    const Bytes mac = IKEPLEX_TRY(integrity_mac(*registry_, *integ_, integ_key_.view(),
                                                {ByteView(out).first(out.size() - icv_size())}));
    std::copy(mac.begin(), mac.end(), icv.begin());
    return out;
}

Result<SkCipher::Opened> SkCipher::open(ByteView datagram, const wire::Message& parsed) const {
    const SkLayout l = IKEPLEX_TRY(layout_of(datagram, parsed));
    const std::size_t payload_size = l.end - l.iv_offset;
    if (payload_size < iv_size() + 1 + icv_size()) {
        return wire::invalid_syntax("SK: encrypted payload shorter than IV, Pad Length and ICV");
    }
    const std::size_t enc_size = payload_size - iv_size() - icv_size();
    if (enc_size % encr_->block_size != 0) {
        return wire::invalid_syntax("SK: ciphertext is not a multiple of the block size");
    }
    const ByteView iv = datagram.subspan(l.iv_offset, iv_size());
    const ByteView icv = datagram.last(icv_size());
    Bytes plain(datagram.begin() + static_cast<std::ptrdiff_t>(l.iv_offset + iv_size()),
                datagram.end() - static_cast<std::ptrdiff_t>(icv_size()));

    if (encr_->aead) {
        if (!crypto::aead_open_once(*encr_, encr_key_.view(), iv, datagram.first(l.iv_offset),
                                    plain, icv)) {
            return make_error(Errc::kIntegrity, "SK: AEAD tag does not verify");
        }
    } else {
        // Verify before decrypting (RFC 7296 §3.14), in constant time.
        const Bytes mac = IKEPLEX_TRY(integrity_mac(*registry_, *integ_, integ_key_.view(),
                                                    {datagram.first(l.end - icv_size())}));
        if (!constant_time_equal(mac.data(), icv.data(), icv.size())) {
            return make_error(Errc::kIntegrity, "SK: integrity checksum does not verify");
        }
        IKEPLEX_TRY(aes_cbc(*encr_, encr_key_.view(), iv, plain, false));
    }
    const std::size_t pad = plain.back();
    if (pad + 1 > plain.size()) {
        return wire::invalid_syntax("SK: Pad Length exceeds the decrypted data");
    }
    Opened o;
    const auto pad_start = static_cast<std::ptrdiff_t>(plain.size() - 1 - pad);
    o.padding.assign(plain.begin() + pad_start, plain.end() - 1);
    plain.resize(static_cast<std::size_t>(pad_start));
    o.plaintext = std::move(plain);
    o.iv.assign(iv.begin(), iv.end());
    return o;
}

}  // namespace ikeplex::ike
