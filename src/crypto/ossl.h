// OpenSSL 3 handles as RAII types, and the conversion of OpenSSL failures into Errors.
//
// Every OpenSSL object ikeplex holds is one of these unique_ptrs; every OpenSSL call is checked
// and a failure becomes Error{kCrypto, detail} with OpenSSL's error queue written to the log.
#pragma once

#include <memory>

#include <openssl/bn.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/param_build.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/constant_time.h"
#include "util/result.h"

namespace ikeplex::crypto {

template <auto Fn>
struct FnDeleter {
    template <class T>
    void operator()(T* p) const noexcept {
        Fn(p);
    }
};

using EvpCipherPtr = std::unique_ptr<EVP_CIPHER, FnDeleter<&EVP_CIPHER_free>>;
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, FnDeleter<&EVP_CIPHER_CTX_free>>;
using EvpMacPtr = std::unique_ptr<EVP_MAC, FnDeleter<&EVP_MAC_free>>;
using EvpMacCtxPtr = std::unique_ptr<EVP_MAC_CTX, FnDeleter<&EVP_MAC_CTX_free>>;
using EvpMdPtr = std::unique_ptr<EVP_MD, FnDeleter<&EVP_MD_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, FnDeleter<&EVP_MD_CTX_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, FnDeleter<&EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, FnDeleter<&EVP_PKEY_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, FnDeleter<&BN_clear_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, FnDeleter<&OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, FnDeleter<&OSSL_PARAM_free>>;
using X509Ptr = std::unique_ptr<X509, FnDeleter<&X509_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, FnDeleter<&X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, FnDeleter<&X509_STORE_CTX_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, FnDeleter<&X509_NAME_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, FnDeleter<&X509_CRL_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, FnDeleter<&GENERAL_NAMES_free>>;
using BioPtr = std::unique_ptr<BIO, FnDeleter<&BIO_free_all>>;
using LibCtxPtr = std::unique_ptr<OSSL_LIB_CTX, FnDeleter<&OSSL_LIB_CTX_free>>;
using DecoderCtxPtr = std::unique_ptr<OSSL_DECODER_CTX, FnDeleter<&OSSL_DECODER_CTX_free>>;
using OcspRequestPtr = std::unique_ptr<OCSP_REQUEST, FnDeleter<&OCSP_REQUEST_free>>;
using OcspResponsePtr = std::unique_ptr<OCSP_RESPONSE, FnDeleter<&OCSP_RESPONSE_free>>;
using OcspBasicRespPtr = std::unique_ptr<OCSP_BASICRESP, FnDeleter<&OCSP_BASICRESP_free>>;
using OcspCertIdPtr = std::unique_ptr<OCSP_CERTID, FnDeleter<&OCSP_CERTID_free>>;
using ProviderPtr = std::unique_ptr<OSSL_PROVIDER, FnDeleter<&OSSL_PROVIDER_unload>>;

/// Error{kCrypto, detail}; drains OpenSSL's error queue into the log (debug level).
Error openssl_error(const char* detail);

/// Status from an OpenSSL return value (1 = success).
inline Status check(int rc, const char* detail) {
    if (rc == 1) {
        return ok();
    }
    return openssl_error(detail);
}

}  // namespace ikeplex::crypto
