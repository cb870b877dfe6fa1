// PKCS#12 bundles of swanctl.conf (see swanctl_pkcs12.h).
#include "config/swanctl_pkcs12.h"

#include "config/swanctl_folders.h"
#include "config/swanctl_values.h"
#include "ike/credential_bundles.h"

namespace ikeplex::config {
namespace {

/// Opens the bundle at `path` into `creds`; the error when it does not open.
Status add_bundle(ike::Credentials& creds, ByteView der, const SecretBytes& passphrase,
                  const std::string& path, Findings& findings) {
    auto added = IKEPLEX_TRY(ike::add_pkcs12(creds, der, passphrase));
    if (!added.had_key) {
        findings.warnings.push_back(Diagnostic{
                SourcePos{path, 0}, "the PKCS#12 bundle holds no private key (only certificates)"});
    }
    for (std::string& e : added.errors) {
        findings.errors.push_back(Diagnostic{SourcePos{path, 0}, std::move(e)});
    }
    return ok();
}

}  // namespace

void load_pkcs12_folder(const std::string& base, ike::Credentials& creds, Findings& findings,
                        const FileSystem& fs, std::set<std::string>& sealed) {
    load_folder(
            base, "pkcs12", findings, fs,
            [&](const Bytes& der, const std::string& path) -> Result<FolderFile> {
                auto added = add_bundle(creds, der, SecretBytes{}, path, findings);
                if (added) {
                    return FolderFile::kLoaded;
                }
                if (added.error().code == Errc::kPassphrase) {
                    return FolderFile::kSealed;  // a secrets section opens it, or it is reported
                }
                return added.error();
            },
            &sealed);
}

void map_pkcs12_secret(const Section& sec, const CredentialDirs& dirs, ike::Credentials& creds,
                       Findings& findings, const FileSystem& fs, std::set<std::string>& sealed) {
    Reporter r(findings, "secrets");
    const Setting* file = sec.find_setting("file");
    const Setting* secret = sec.find_setting("secret");
    for (const Setting& s : sec.settings) {
        if (s.name != "file" && s.name != "secret") {
            r.error(s.pos, sec.name + "." + s.name,
                    "unknown key (a pkcs12 secret has file and secret)");
        }
    }
    if (file == nullptr || !file->value) {
        r.error(sec.pos, sec.name, "no file given");
        return;
    }
    if (secret == nullptr || !secret->value) {
        r.error(sec.pos, sec.name, "no secret given (the bundle's passphrase)");
        return;
    }
    auto passphrase = parse_secret(*secret->value);
    if (!passphrase) {
        r.error(secret->pos, sec.name + ".secret", "not a usable passphrase (bad 0x/0s encoding)");
        return;
    }
    const std::string path = file->value->starts_with("/") || dirs.base.empty()
                                     ? *file->value
                                     : dirs.base + "/pkcs12/" + *file->value;
    auto data = fs.read_file(path);
    if (!data) {
        r.error(file->pos, sec.name + ".file",
                std::string("cannot load the PKCS#12 bundle: ") + data.error().detail);
        return;
    }
    if (auto added =
                add_bundle(creds, Bytes(data->begin(), data->end()), *passphrase, path, findings);
        !added) {
        r.error(file->pos, sec.name + ".file",
                std::string("cannot load the PKCS#12 bundle: ") + added.error().detail);
        return;
    }
    sealed.erase(normal_path(path));
}

void report_sealed_bundles(const std::set<std::string>& sealed, Findings& findings) {
    for (const std::string& path : sealed) {
        findings.errors.push_back(Diagnostic{
                SourcePos{path, 0},
                "a PKCS#12 bundle no secrets section opens: give its passphrase in secrets { "
                "pkcs12-<name> { file = ..., secret = ... } }"});
    }
}

}  // namespace ikeplex::config
