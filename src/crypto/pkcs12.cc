// PKCS#12 bundles (see pkcs12.h): the MAC checked, each SafeContents decrypted (default provider
// first, then the legacy context), the bags read into keys and certificates.
#include "crypto/pkcs12.h"

#include <openssl/err.h>
#include <openssl/pkcs12.h>

#include "crypto/legacy.h"

namespace ikeplex::crypto {
namespace {

void free_pkcs7s(STACK_OF(PKCS7) * s) noexcept {
    sk_PKCS7_pop_free(s, PKCS7_free);
}
void free_bags(STACK_OF(PKCS12_SAFEBAG) * s) noexcept {
    sk_PKCS12_SAFEBAG_pop_free(s, PKCS12_SAFEBAG_free);
}
using Pkcs12Ptr = std::unique_ptr<PKCS12, FnDeleter<&PKCS12_free>>;
using Pkcs7StackPtr = std::unique_ptr<STACK_OF(PKCS7), FnDeleter<&free_pkcs7s>>;
using BagStackPtr = std::unique_ptr<STACK_OF(PKCS12_SAFEBAG), FnDeleter<&free_bags>>;
using P8InfoPtr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, FnDeleter<&PKCS8_PRIV_KEY_INFO_free>>;

/// Nested SafeContents bags deeper than this are refused (real bundles have none).
constexpr int kMaxNesting = 4;

/// The passphrase as OpenSSL's PKCS#12 functions take it.
struct Password {
    const char* text;
    int len;
};

/// Runs `decrypt(ctx)` with OpenSSL's default context, and when that fails with the legacy
/// one (for RC2/RC4/DES); `legacy` tells which one worked.
template <class T, class F>
Result<T> with_fallback(F&& decrypt, bool& legacy, const char* what) {
    if (T out = decrypt(nullptr)) {
        return out;
    }
    ERR_clear_error();
    auto ctx = legacy::library_context();
    if (!ctx) {
        return make_error(Errc::kUnsupported,
                          "PKCS#12: a part of the bundle needs OpenSSL's legacy provider "
                          "(legacy.so), which is missing");
    }
    if (T out = decrypt(*ctx)) {
        legacy = true;
        return out;
    }
    ERR_clear_error();
    return make_error(Errc::kInvalidArgument, what);
}

struct Reader {
    Password pw{};
    Pkcs12Contents out;

    Status read_bags(const STACK_OF(PKCS12_SAFEBAG) * bags, int depth) {
        if (depth > kMaxNesting) {
            return make_error(Errc::kInvalidArgument, "PKCS#12: SafeContents nested too deeply");
        }
        for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); ++i) {
            IKEPLEX_TRY(read_bag(sk_PKCS12_SAFEBAG_value(bags, i), depth));
        }
        return ok();
    }

    Status read_bag(const PKCS12_SAFEBAG* bag, int depth) {
        switch (PKCS12_SAFEBAG_get_nid(bag)) {
            case NID_certBag:
                if (PKCS12_SAFEBAG_get_bag_nid(bag) == NID_x509Certificate) {
                    X509Ptr cert(PKCS12_SAFEBAG_get1_cert(bag));
                    if (!cert) {
                        return openssl_error("PKCS#12: unreadable certificate");
                    }
                    out.certs.emplace_back(std::move(cert));
                }
                return ok();
            case NID_keyBag:
                return add_key(PKCS12_SAFEBAG_get0_p8inf(bag));
            case NID_pkcs8ShroudedKeyBag: {
                auto p8 = IKEPLEX_TRY(with_fallback<P8InfoPtr>(
                        [&](OSSL_LIB_CTX* ctx) {
                            return P8InfoPtr(
                                    PKCS12_decrypt_skey_ex(bag, pw.text, pw.len, ctx, nullptr));
                        },
                        out.legacy, "PKCS#12: the private key does not decrypt"));
                return add_key(p8.get());
            }
            case NID_safeContentsBag:
                return read_bags(PKCS12_SAFEBAG_get0_safes(bag), depth + 1);
            default:
                return ok();  // CRL and secret bags: nothing ikeplex uses
        }
    }

    Status add_key(const PKCS8_PRIV_KEY_INFO* p8) {
        EvpPkeyPtr key(p8 != nullptr ? EVP_PKCS82PKEY(p8) : nullptr);
        if (!key) {
            ERR_clear_error();
            return make_error(Errc::kInvalidArgument, "PKCS#12: unreadable private key");
        }
        out.keys.emplace_back(std::move(key));
        return ok();
    }

    Status read_safe(PKCS7* p7) {
        switch (OBJ_obj2nid(p7->type)) {
            case NID_pkcs7_data: {
                const BagStackPtr bags(PKCS12_unpack_p7data(p7));
                if (!bags) {
                    return openssl_error("PKCS#12: unreadable SafeContents");
                }
                return read_bags(bags.get(), 0);
            }
            case NID_pkcs7_encrypted: {
                const PKCS7_ENCRYPT* enc = p7->d.encrypted;
                if (enc == nullptr || enc->enc_data == nullptr ||
                    enc->enc_data->enc_data == nullptr) {
                    return make_error(Errc::kInvalidArgument,
                                      "PKCS#12: encrypted SafeContents without data");
                }
                const BagStackPtr bags = IKEPLEX_TRY(with_fallback<BagStackPtr>(
                        [&](OSSL_LIB_CTX* ctx) {
                            return BagStackPtr(static_cast<STACK_OF(PKCS12_SAFEBAG)*>(
                                    PKCS12_item_decrypt_d2i_ex(
                                            enc->enc_data->algorithm,
                                            ASN1_ITEM_rptr(PKCS12_SAFEBAGS), pw.text, pw.len,
                                            enc->enc_data->enc_data, 1, ctx, nullptr)));
                        },
                        out.legacy, "PKCS#12: the certificates do not decrypt"));
                return read_bags(bags.get(), 0);
            }
            default:
                return ok();  // public-key protected SafeContents: not used by exports
        }
    }
};

}  // namespace

Result<Pkcs12Contents> read_pkcs12(ByteView der, const SecretBytes& passphrase) {
    const unsigned char* p = der.data();
    Pkcs12Ptr p12(d2i_PKCS12(nullptr, &p, static_cast<long>(der.size())));
    if (!p12) {
        ERR_clear_error();
        return make_error(Errc::kInvalidArgument, "not a PKCS#12 bundle (DER)");
    }
    Reader reader{Password{reinterpret_cast<const char*>(passphrase.view().data()),
                           static_cast<int>(passphrase.size())},
                  {}};
    if (passphrase.empty()) {
        reader.pw.text = "";
    }
    if (PKCS12_mac_present(p12.get()) == 1) {
        bool verified = PKCS12_verify_mac(p12.get(), reader.pw.text, reader.pw.len) == 1;
        if (!verified && passphrase.empty()) {  // no password at all rather than an empty one
            reader.pw.text = nullptr;
            verified = PKCS12_verify_mac(p12.get(), nullptr, 0) == 1;
        }
        if (!verified) {
            ERR_clear_error();
            return make_error(Errc::kPassphrase,
                              "cannot open the PKCS#12 bundle: wrong passphrase (its MAC does not "
                              "verify)");
        }
    }
    const Pkcs7StackPtr safes(PKCS12_unpack_authsafes(p12.get()));
    if (!safes) {
        return openssl_error("PKCS#12: unreadable contents");
    }
    for (int i = 0; i < sk_PKCS7_num(safes.get()); ++i) {
        IKEPLEX_TRY(reader.read_safe(sk_PKCS7_value(safes.get(), i)));
    }
    return std::move(reader.out);
}

}  // namespace ikeplex::crypto
