// IKE and Child SA key derivation (RFC 7296 §2.14, §2.17, §2.18).
#pragma once

#include "crypto/prf.h"
#include "crypto/registry.h"
#include "util/strong_id.h"

namespace ikeplex::crypto {

/// The seven keys of an IKE SA (RFC 7296 §2.14).
struct IkeKeys {
    SecretBytes sk_d;
    SecretBytes sk_ai;  ///< empty with an AEAD cipher
    SecretBytes sk_ar;
    SecretBytes sk_ei;  ///< encryption key, salt included for AEAD
    SecretBytes sk_er;
    SecretBytes sk_pi;
    SecretBytes sk_pr;
};

/// The transforms an IKE SA negotiated.
struct IkeSuite {
    const EncrInfo* encr{nullptr};
    const IntegInfo* integ{nullptr};  ///< nullptr with AEAD
    const PrfInfo* prf{nullptr};
};

/// SKEYSEED = prf(Ni | Nr, g^ir) for a new IKE SA (RFC 7296 §2.14).
Result<SecretBytes> skeyseed(const Prf& prf, ByteView ni, ByteView nr, ByteView g_ir);
/// SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) for a rekeyed IKE SA (RFC 7296 §2.18),
/// `old_prf` being the old IKE SA's PRF.
Result<SecretBytes> rekey_skeyseed(const Prf& old_prf, ByteView old_sk_d, ByteView g_ir,
                                   ByteView ni, ByteView nr);

/// {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
Result<IkeKeys> derive_ike_keys(const Prf& prf, const IkeSuite& suite, ByteView skeyseed,
                                ByteView ni, ByteView nr, IkeSpi spi_i, IkeSpi spi_r);

/// RFC 8784 §3: SK_d, SK_pi and SK_pr with a post-quantum preshared key mixed in, each
/// prf+(PPK, SK_x') of the size of SK_x' (for the PRFs IKEv2 has, prf(PPK, SK_x' | 0x01)).
struct PpkKeys {
    SecretBytes sk_d;
    SecretBytes sk_pi;
    SecretBytes sk_pr;
};
Result<PpkKeys> derive_ppk_keys(const Prf& prf, ByteView ppk, ByteView sk_d, ByteView sk_pi,
                                ByteView sk_pr);

/// A Child SA's keys, in the order RFC 7296 §2.17 takes them from KEYMAT.
struct ChildKeys {
    SecretBytes encr_i;  ///< initiator to responder
    SecretBytes integ_i;
    SecretBytes encr_r;  ///< responder to initiator
    SecretBytes integ_r;
};

/// KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) (RFC 7296 §2.17); `g_ir` empty without PFS.
Result<ChildKeys> derive_child_keys(const Prf& prf, ByteView sk_d, ByteView g_ir, ByteView ni,
                                    ByteView nr, std::size_t encr_size, std::size_t integ_size);

}  // namespace ikeplex::crypto
