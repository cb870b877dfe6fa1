// ML-KEM behind crypto::KeyExchange (crypto/kem.h). The randomness of both roles — d and z for
// a key pair, m for an encapsulation — is drawn at generate(); the key pair is computed only
// when first needed, so a responder, which only encapsulates, never pays for one.
#include <openssl/rand.h>

#include "crypto/kem.h"
#include "crypto/mlkem.h"

namespace ikeplex::crypto {
namespace {

constexpr std::size_t kRandomSize = 3 * mlkem::kSeedSize;  // d ‖ z ‖ m

class MlKemExchange final : public KeyExchange {
public:
    /// `random` is d ‖ z ‖ m.
    MlKemExchange(const KeInfo& info, const mlkem::Params& p, SecretBytes random) noexcept
        : KeyExchange(info), p_(&p), random_(std::move(random)) {}

    [[nodiscard]] ByteView public_value() const noexcept override {
        if (!ct_.empty()) {
            return ct_;
        }
        ensure_keys();
        return ek_;
    }

    [[nodiscard]] Result<SecretBytes> shared_secret(ByteView peer) const override {
        ensure_keys();
        SecretBytes k(mlkem::kSharedSize);
        IKEPLEX_TRY(mlkem::decaps(*p_, dk_.view(), peer, k.mut_view()));
        return k;
    }

    [[nodiscard]] Result<SecretBytes> respond(ByteView peer) override {
        Bytes ct(p_->ct_size());
        SecretBytes k(mlkem::kSharedSize);
        IKEPLEX_TRY(mlkem::encaps(*p_, peer, random_.view().data() + 2 * mlkem::kSeedSize, ct,
                                  k.mut_view()));
        ct_ = std::move(ct);
        return k;
    }

private:
    void ensure_keys() const noexcept {
        if (!ek_.empty()) {
            return;
        }
        ek_.resize(p_->ek_size());
        dk_ = SecretBytes(p_->dk_size());
        const std::uint8_t* r = random_.view().data();
        mlkem::keygen(*p_, r, r + mlkem::kSeedSize, ek_, dk_.mut_view());
    }

    const mlkem::Params* p_;
    SecretBytes random_;
    // The key pair, made on first use (const accessors may compute it).
    mutable Bytes ek_;
    mutable SecretBytes dk_;
    Bytes ct_;  // after respond(): our KE data
};

Result<KeyExchangePtr> make(const KeInfo& info, SecretBytes random) {
    const mlkem::Params* p = mlkem::params_for_ke(info.id);
    if (p == nullptr) {
        return make_error(Errc::kInvalidArgument, "KE: not an ML-KEM parameter set");
    }
    return KeyExchangePtr(std::make_unique<MlKemExchange>(info, *p, std::move(random)));
}

}  // namespace

Result<KeyExchangePtr> mlkem_generate(const KeInfo& info, Random* random) {
    SecretBytes r(kRandomSize);
    if (random != nullptr) {
        random->fill(r.mut_view());
    } else if (RAND_bytes(r.mut_view().data(), static_cast<int>(r.size())) != 1) {
        return make_error(Errc::kCrypto, "KE: ML-KEM randomness");
    }
    return make(info, std::move(r));
}

Result<KeyExchangePtr> mlkem_from_seed(const KeInfo& info, ByteView seed) {
    // d ‖ z (FIPS 203 §7.1's seed), optionally followed by the encapsulation's m.
    if (seed.size() != 2 * mlkem::kSeedSize && seed.size() != kRandomSize) {
        return make_error(Errc::kInvalidArgument, "KE: ML-KEM seed is d | z (| m)");
    }
    SecretBytes r(kRandomSize);
    std::copy(seed.begin(), seed.end(), r.mut_view().begin());
    if (seed.size() < kRandomSize &&
        RAND_bytes(r.mut_view().data() + seed.size(), static_cast<int>(mlkem::kSeedSize)) != 1) {
        return make_error(Errc::kCrypto, "KE: ML-KEM randomness");
    }
    return make(info, std::move(r));
}

}  // namespace ikeplex::crypto
