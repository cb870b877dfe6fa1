// PKCS#12 bundles in swanctl.conf's credentials (internal to the swanctl mapping): the pkcs12/
// folder and `secrets { pkcs12<suffix> { file = ..., secret = ... } }`, as swanctl --load-creds
// reads them (it opens each bundle itself and loads every certificate in it with load-cert,
// flag none, and its key with load-key; charon trusts a self-signed CA among them as it trusts
// one in x509ca/, and uses the others as intermediates).
#pragma once

#include <set>
#include <string>

#include "config/settings.h"
#include "config/swanctl.h"

namespace ikeplex::config {

/// The files of `<base>/pkcs12/`: each is loaded now when it opens without a passphrase, else
/// its path goes to `sealed` until a pkcs12 secret opens it (what is left is reported by
/// report_sealed_bundles); an unreadable file is an error at the file.
void load_pkcs12_folder(const std::string& base, ike::Credentials& creds, Findings& findings,
                        const FileSystem& fs, std::set<std::string>& sealed);

/// `secrets.pkcs12<suffix>`: `file` (in the pkcs12/ folder, or an absolute path) opened with
/// `secret`; errors at the key's file:line. Takes the bundle off `sealed`.
void map_pkcs12_secret(const Section& sec, const CredentialDirs& dirs, ike::Credentials& creds,
                       Findings& findings, const FileSystem& fs, std::set<std::string>& sealed);

/// One error per bundle of the folder that no secret opened.
void report_sealed_bundles(const std::set<std::string>& sealed, Findings& findings);

}  // namespace ikeplex::config
