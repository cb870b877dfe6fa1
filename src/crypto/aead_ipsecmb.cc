// Intel IPsec-MB AEAD backend: AES-GCM-128/192/256 through the manager's direct GCM API
// (keys expanded once with *_GCM_PRE), ChaCha20-Poly1305 through its init/update/finalize API.
// One manager per thread; the AEADs keep a pointer to theirs.
// Without this, IPsec-MB 1.3 defines macros such as SHA1 that clash with OpenSSL.
#define NO_COMPAT_IMB_API_053
#include <array>
#include <cstring>

#include <intel-ipsec-mb.h>

#include "crypto/aead.h"
#include "crypto/algorithm_ids.h"
#include "util/secret_bytes.h"

namespace ikeplex::crypto {

struct IpsecMb::Manager {
    IMB_MGR* mgr{nullptr};
    IMB_ARCH arch{IMB_ARCH_NONE};
    Manager() = default;
    Manager(const Manager&) = delete;
    Manager& operator=(const Manager&) = delete;
    Manager(Manager&&) = delete;
    Manager& operator=(Manager&&) = delete;
    ~Manager() {
        if (mgr != nullptr) {
            free_mb_mgr(mgr);
        }
    }
};

namespace {

class GcmAead final : public Aead {
public:
    GcmAead(IMB_MGR* mgr, std::size_t key_bytes, ByteView key, ByteView salt) noexcept
        : mgr_(mgr), key_bytes_(key_bytes) {
        switch (key_bytes_) {
            case 16:
                IMB_AES128_GCM_PRE(mgr_, key.data(), &key_);
                break;
            case 24:
                IMB_AES192_GCM_PRE(mgr_, key.data(), &key_);
                break;
            default:
                IMB_AES256_GCM_PRE(mgr_, key.data(), &key_);
                break;
        }
        std::memcpy(nonce_.data(), salt.data(), 4);
    }
    GcmAead(const GcmAead&) = delete;
    GcmAead& operator=(const GcmAead&) = delete;
    GcmAead(GcmAead&&) = delete;
    GcmAead& operator=(GcmAead&&) = delete;
    ~GcmAead() override { secure_zero({reinterpret_cast<std::uint8_t*>(&key_), sizeof(key_)}); }

    [[nodiscard]] AeadBackend backend() const noexcept override { return AeadBackend::kIpsecMb; }

    bool seal(ByteView iv, ByteView aad, MutByteView data, MutByteView tag) noexcept override {
        if (iv.size() != kAeadIvSize || tag.size() != kAeadTagSize) {
            return false;
        }
        std::memcpy(nonce_.data() + 4, iv.data(), kAeadIvSize);
        gcm_context_data ctx;  // NOLINT(cppcoreguidelines-pro-type-member-init): IPsec-MB sets it
        switch (key_bytes_) {
            case 16:
                IMB_AES128_GCM_ENC(mgr_, &key_, &ctx, data.data(), data.data(), data.size(),
                                   nonce_.data(), aad.data(), aad.size(), tag.data(), tag.size());
                break;
            case 24:
                IMB_AES192_GCM_ENC(mgr_, &key_, &ctx, data.data(), data.data(), data.size(),
                                   nonce_.data(), aad.data(), aad.size(), tag.data(), tag.size());
                break;
            default:
                IMB_AES256_GCM_ENC(mgr_, &key_, &ctx, data.data(), data.data(), data.size(),
                                   nonce_.data(), aad.data(), aad.size(), tag.data(), tag.size());
                break;
        }
        return true;
    }

    bool open(ByteView iv, ByteView aad, MutByteView data, ByteView tag) noexcept override {
        if (iv.size() != kAeadIvSize || tag.size() != kAeadTagSize) {
            return false;
        }
        std::memcpy(nonce_.data() + 4, iv.data(), kAeadIvSize);
        gcm_context_data ctx;  // NOLINT(cppcoreguidelines-pro-type-member-init): IPsec-MB sets it
        std::array<std::uint8_t, kAeadTagSize> computed{};
        switch (key_bytes_) {
            case 16:
                IMB_AES128_GCM_DEC(mgr_, &key_, &ctx, data.data(), data.data(), data.size(),
                                   nonce_.data(), aad.data(), aad.size(), computed.data(),
                                   computed.size());
                break;
            case 24:
                IMB_AES192_GCM_DEC(mgr_, &key_, &ctx, data.data(), data.data(), data.size(),
                                   nonce_.data(), aad.data(), aad.size(), computed.data(),
                                   computed.size());
                break;
            default:
                IMB_AES256_GCM_DEC(mgr_, &key_, &ctx, data.data(), data.data(), data.size(),
                                   nonce_.data(), aad.data(), aad.size(), computed.data(),
                                   computed.size());
                break;
        }
        return constant_time_equal(computed.data(), tag.data(), kAeadTagSize);
    }

private:
    IMB_MGR* mgr_;
    std::size_t key_bytes_;
    alignas(64) gcm_key_data key_{};
    std::array<std::uint8_t, 12> nonce_{};
};

class ChachaAead final : public Aead {
public:
    ChachaAead(IMB_MGR* mgr, ByteView key, ByteView salt) noexcept : mgr_(mgr) {
        std::memcpy(key_.data(), key.data(), key_.size());
        std::memcpy(nonce_.data(), salt.data(), 4);
    }
    ChachaAead(const ChachaAead&) = delete;
    ChachaAead& operator=(const ChachaAead&) = delete;
    ChachaAead(ChachaAead&&) = delete;
    ChachaAead& operator=(ChachaAead&&) = delete;
    ~ChachaAead() override { secure_zero(key_); }

    [[nodiscard]] AeadBackend backend() const noexcept override { return AeadBackend::kIpsecMb; }

    bool seal(ByteView iv, ByteView aad, MutByteView data, MutByteView tag) noexcept override {
        if (iv.size() != kAeadIvSize || tag.size() != kAeadTagSize) {
            return false;
        }
        std::memcpy(nonce_.data() + 4, iv.data(), kAeadIvSize);
        chacha20_poly1305_context_data ctx;  // NOLINT(cppcoreguidelines-pro-type-member-init)
        IMB_CHACHA20_POLY1305_INIT(mgr_, key_.data(), &ctx, nonce_.data(), aad.data(), aad.size());
        IMB_CHACHA20_POLY1305_ENC_UPDATE(mgr_, key_.data(), &ctx, data.data(), data.data(),
                                         data.size());
        IMB_CHACHA20_POLY1305_ENC_FINALIZE(mgr_, &ctx, tag.data(), tag.size());
        return true;
    }

    bool open(ByteView iv, ByteView aad, MutByteView data, ByteView tag) noexcept override {
        if (iv.size() != kAeadIvSize || tag.size() != kAeadTagSize) {
            return false;
        }
        std::memcpy(nonce_.data() + 4, iv.data(), kAeadIvSize);
        chacha20_poly1305_context_data ctx;  // NOLINT(cppcoreguidelines-pro-type-member-init)
        std::array<std::uint8_t, kAeadTagSize> computed{};
        IMB_CHACHA20_POLY1305_INIT(mgr_, key_.data(), &ctx, nonce_.data(), aad.data(), aad.size());
        IMB_CHACHA20_POLY1305_DEC_UPDATE(mgr_, key_.data(), &ctx, data.data(), data.data(),
                                         data.size());
        IMB_CHACHA20_POLY1305_DEC_FINALIZE(mgr_, &ctx, computed.data(), computed.size());
        return constant_time_equal(computed.data(), tag.data(), kAeadTagSize);
    }

private:
    IMB_MGR* mgr_;
    std::array<std::uint8_t, 32> key_{};
    std::array<std::uint8_t, 12> nonce_{};
};

}  // namespace

IpsecMb::IpsecMb(Token /*create()*/, std::unique_ptr<Manager> m) noexcept : mgr_(std::move(m)) {}
IpsecMb::~IpsecMb() = default;

Result<std::unique_ptr<IpsecMb>> IpsecMb::create() {
    auto m = std::make_unique<Manager>();
    m->mgr = alloc_mb_mgr(0);
    if (m->mgr == nullptr) {
        return make_error(Errc::kCrypto, "IPsec-MB: cannot allocate a manager");
    }
    init_mb_mgr_auto(m->mgr, &m->arch);
    if (imb_get_errno(m->mgr) != 0 || m->arch == IMB_ARCH_NONE) {
        return make_error(Errc::kCrypto, "IPsec-MB: no usable implementation on this CPU");
    }
    return std::make_unique<IpsecMb>(Token{}, std::move(m));
}

const char* IpsecMb::arch_name() const noexcept {
    switch (mgr_->arch) {
        case IMB_ARCH_NOAESNI:
            return "NO-AESNI";
        case IMB_ARCH_SSE:
            return "SSE";
        case IMB_ARCH_AVX:
            return "AVX";
        case IMB_ARCH_AVX2:
            return "AVX2";
        case IMB_ARCH_AVX512:
            return "AVX512";
        default:
            return "NONE";
    }
}

const char* IpsecMb::version() noexcept {
    return imb_get_version_str();
}

Result<AeadPtr> IpsecMb::make_aead(const EncrInfo& encr, ByteView key_material) {
    if (!encr.aead || key_material.size() != encr.key_size) {
        return make_error(Errc::kInvalidArgument, "AEAD: not an AEAD or wrong key size");
    }
    const std::size_t key_bytes = encr.key_size - encr.salt_size;
    const ByteView key = key_material.first(key_bytes);
    const ByteView salt = key_material.last(encr.salt_size);
    if (encr.id == encr::kChacha20Poly1305) {
        return AeadPtr(std::make_unique<ChachaAead>(mgr_->mgr, key, salt));
    }
    return AeadPtr(std::make_unique<GcmAead>(mgr_->mgr, key_bytes, key, salt));
}

}  // namespace ikeplex::crypto
