#include "version.h"

#include <openssl/crypto.h>

#include "crypto/aead.h"

namespace ikeplex::apps {

// build_version() and build_revision() are in the generated build_revision.cc
// (cmake/GitRevision.cmake).

void add_version_flag(CLI::App& app, std::string_view program) {
    app.set_version_flag(
            "--version", [name = std::string(program)] { return version_text(name); },
            "print the version, git revision, backends and crypto libraries");
}

std::string version_text(std::string_view program) {
    std::string s(program);
    s += ' ';
    s += build_version();
    s += "\nrevision: ";
    s += build_revision();
    // Every build has all three (kernel/backend_factory.h picks one by `backend =`).
    s += "\nbackends: userspace, xfrm, none";
    s += "\ncrypto: ";
    s += OpenSSL_version(OPENSSL_VERSION);  // the library loaded, not the headers built with
    s += ", Intel IPsec-MB ";
    s += crypto::IpsecMb::version();
    return s;
}

}  // namespace ikeplex::apps
