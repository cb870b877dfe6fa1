#include "crypto/x509.h"

#include <algorithm>
#include <cctype>

#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "crypto/x509_text.h"
#include "util/log.h"

namespace ikeplex::crypto {
namespace {

/// Frees the stack only: the certificates in it are borrowed.
void free_x509_stack(STACK_OF(X509) * s) noexcept {
    sk_X509_free(s);
}
using StackX509Ptr = std::unique_ptr<STACK_OF(X509), FnDeleter<&free_x509_stack>>;
/// Frees the stack and the references it holds (X509_STORE_CTX_get1_chain's).
void free_owned_x509_stack(STACK_OF(X509) * s) noexcept {
    sk_X509_pop_free(s, X509_free);
}

bool iequal(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view string_of(const ASN1_STRING* s) noexcept {
    return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
            static_cast<std::size_t>(ASN1_STRING_length(s))};
}

}  // namespace

Result<Certificate> Certificate::from_der(ByteView der) {
    const unsigned char* p = der.data();
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!cert || p != der.data() + der.size()) {
        (void)openssl_error("certificate: DER");
        return make_error(Errc::kInvalidArgument, "certificate: not a DER X.509 certificate");
    }
    return Certificate(std::move(cert));
}

bool Certificate::same_as(const Certificate& other) const noexcept {
    return X509_cmp(cert_.get(), other.cert_.get()) == 0;
}

bool Certificate::matches_key(const PrivateKey& key) const noexcept {
    EVP_PKEY* pub = X509_get0_pubkey(cert_.get());
    return pub != nullptr && key.raw() != nullptr && EVP_PKEY_eq(pub, key.raw()) == 1;
}

Result<Certificate> Certificate::from_any(ByteView data) {
    const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    if (text.find("-----BEGIN") != std::string_view::npos) {
        return from_pem(text);
    }
    return from_der(data);
}

Result<Certificate> Certificate::from_pem(std::string_view pem) {
    const BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!cert) {
        (void)openssl_error("certificate: PEM");
        return make_error(Errc::kInvalidArgument, "certificate: not a PEM X.509 certificate");
    }
    return Certificate(std::move(cert));
}

Certificate Certificate::clone() const {
    X509_up_ref(cert_.get());
    return Certificate(X509Ptr(cert_.get()));
}

Bytes Certificate::der() const {
    const int len = i2d_X509(cert_.get(), nullptr);
    if (len <= 0) {
        return {};
    }
    Bytes out(static_cast<std::size_t>(len));
    unsigned char* p = out.data();
    i2d_X509(cert_.get(), &p);
    return out;
}

std::string Certificate::subject() const {
    const BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert_.get()), 0, XN_FLAG_RFC2253) < 0) {
        return {};
    }
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(len)};
}

Bytes Certificate::public_key_sha1() const {
    EVP_PKEY* pub = X509_get0_pubkey(cert_.get());
    const int len = pub != nullptr ? i2d_PUBKEY(pub, nullptr) : 0;
    if (len <= 0) {
        return {};
    }
    Bytes spki(static_cast<std::size_t>(len));
    unsigned char* p = spki.data();
    i2d_PUBKEY(pub, &p);
    Bytes out(20);
    unsigned int n = 0;
    if (EVP_Digest(spki.data(), spki.size(), out.data(), &n, EVP_sha1(), nullptr) != 1 || n != 20) {
        return {};
    }
    return out;
}

Bytes Certificate::subject_der() const {
    return name_der(X509_get_subject_name(cert_.get()));
}

Result<PublicKey> Certificate::public_key() const {
    EvpPkeyPtr key(X509_get_pubkey(cert_.get()));  // takes a reference
    if (!key) {
        return openssl_error("certificate: public key");
    }
    return PublicKey(std::move(key));
}

bool Certificate::names(NameKind kind, ByteView data) const {
    if (kind == NameKind::kDistinguishedName) {
        const unsigned char* p = data.data();
        const X509NamePtr name(d2i_X509_NAME(nullptr, &p, static_cast<long>(data.size())));
        return name && p == data.data() + data.size() &&
               X509_NAME_cmp(name.get(), X509_get_subject_name(cert_.get())) == 0;
    }
    const int wanted = kind == NameKind::kIpAddress ? GEN_IPADD
                       : kind == NameKind::kDns     ? GEN_DNS
                                                    : GEN_EMAIL;
    const GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
            X509_get_ext_d2i(cert_.get(), NID_subject_alt_name, nullptr, nullptr)));
    if (!names) {
        return false;
    }
    const std::string_view id(reinterpret_cast<const char*>(data.data()), data.size());
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
        if (n->type != wanted) {
            continue;
        }
        if (wanted == GEN_IPADD) {
            const std::string_view ip = string_of(n->d.iPAddress);
            if (ip.size() == id.size() && std::equal(ip.begin(), ip.end(), id.begin())) {
                return true;
            }
        } else if (iequal(string_of(n->d.ia5), id)) {  // DNS names and mailboxes: any case
            return true;
        }
    }
    return false;
}

Result<Bytes> dn_from_string(std::string_view text) {
    const X509NamePtr name(X509_NAME_new());
    if (!name) {
        return openssl_error("DN: allocation");
    }
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find_first_of(",/", pos);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        std::string_view rdn = text.substr(pos, end - pos);
        pos = end + 1;
        while (!rdn.empty() && rdn.front() == ' ') {
            rdn.remove_prefix(1);
        }
        while (!rdn.empty() && rdn.back() == ' ') {
            rdn.remove_suffix(1);
        }
        if (rdn.empty()) {
            continue;
        }
        const auto eq = rdn.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            return make_error(Errc::kInvalidArgument, "DN: RDN without '='");
        }
        std::string key(rdn.substr(0, eq));
        while (!key.empty() && key.back() == ' ') {
            key.pop_back();
        }
        std::string value(rdn.substr(eq + 1));
        while (!value.empty() && value.front() == ' ') {
            value.erase(value.begin());
        }
        if (X509_NAME_add_entry_by_txt(name.get(), key.c_str(), MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(value.c_str()), -1,
                                       -1, 0) != 1) {
            (void)openssl_error("DN: attribute");
            return make_error(Errc::kInvalidArgument, "DN: unknown attribute name");
        }
    }
    if (X509_NAME_entry_count(name.get()) == 0) {
        return make_error(Errc::kInvalidArgument, "DN: empty");
    }
    const int len = i2d_X509_NAME(name.get(), nullptr);
    Bytes out(static_cast<std::size_t>(len));
    unsigned char* p = out.data();
    i2d_X509_NAME(name.get(), &p);
    return out;
}

Result<std::string> dn_to_string(ByteView der) {
    const unsigned char* p = der.data();
    const X509NamePtr name(d2i_X509_NAME(nullptr, &p, static_cast<long>(der.size())));
    const BioPtr bio(BIO_new(BIO_s_mem()));
    if (!name || p != der.data() + der.size() || !bio) {
        return make_error(Errc::kInvalidArgument, "DN: not a DER distinguished name");
    }
    const unsigned long flags = XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN | ASN1_STRFLGS_RFC2253;
    if (X509_NAME_print_ex(bio.get(), name.get(), 0, flags) < 0) {
        return openssl_error("DN: print");
    }
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

CertStore::CertStore() : store_(X509_STORE_new()) {}

Status CertStore::add_trusted(const Certificate& ca) {
    if (!store_) {
        return openssl_error("CA store");
    }
    return check(X509_STORE_add_cert(store_.get(), ca.raw()), "CA store: add");
}

Result<std::vector<Certificate>> CertStore::verify(const Certificate& leaf,
                                                   std::span<const Certificate> intermediates,
                                                   std::int64_t unix_time) const {
    const X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    const StackX509Ptr chain(sk_X509_new_null());
    if (!ctx || !chain) {
        return openssl_error("certificate: verify context");
    }
    for (const Certificate& c : intermediates) {
        if (sk_X509_push(chain.get(), c.raw()) == 0) {
            return openssl_error("certificate: chain");
        }
    }
    IKEPLEX_TRY(check(X509_STORE_CTX_init(ctx.get(), store_.get(), leaf.raw(), chain.get()),
                      "certificate: verify init"));
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()),
                               static_cast<time_t>(unix_time));
    if (X509_verify_cert(ctx.get()) != 1) {
        const int err = X509_STORE_CTX_get_error(ctx.get());
        log::info(log::Subsystem::kCfg, "certificate '{}' not trusted: {}", leaf.subject(),
                  X509_verify_cert_error_string(err));
        return make_error(Errc::kAuthFailed, "certificate: chain does not verify", 0,
                          static_cast<std::uint32_t>(err));
    }
    // The chain OpenSSL built: the leaf first, the trust anchor last (references owned here).
    const std::unique_ptr<STACK_OF(X509), FnDeleter<&free_owned_x509_stack>> built(
            X509_STORE_CTX_get1_chain(ctx.get()));
    std::vector<Certificate> out;
    for (int i = 0; built && i < sk_X509_num(built.get()); ++i) {
        X509* c = sk_X509_value(built.get(), i);
        X509_up_ref(c);
        out.emplace_back(X509Ptr(c));
    }
    return out;
}

}  // namespace ikeplex::crypto
