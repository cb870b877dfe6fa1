// swanctl.conf's `authorities` section (strongSwan's keys: cacert or file, crl_uris, ocsp_uris,
// cert_uri_base) and the checks of the CRLs the configuration names (`ikeplexd --check`).
#include <ctime>

#include "config/swanctl.h"
#include "config/swanctl_values.h"
#include "crypto/crl_info.h"

namespace ikeplex::config {
namespace {

Bytes bytes_of(const std::string& s) {
    return {s.begin(), s.end()};
}

std::string utc(std::int64_t t) {
    const auto tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

/// One authority: what it names, or nothing (errors reported) when anything is wrong, as
/// strongSwan discards an authority with a bad key.
void map_authority(const Section& ca, const CredentialDirs& dirs, SwanctlConfig& out,
                   Findings& findings, const FileSystem& fs) {
    Reporter r(findings, "authorities." + ca.name);
    const std::size_t before = r.errors();
    ike::Credentials::Authority a;
    a.name = ca.name;
    std::vector<CrlFile> crls;
    const auto load_cert = [&](const std::string& path, const Setting& s) {
        if (a.cacert) {
            r.error(s.pos, s.name, "give either cacert or file, not both");
            return;
        }
        auto data = fs.read_file(path);
        auto cert = data ? crypto::Certificate::from_any(bytes_of(*data))
                         : Result<crypto::Certificate>(data.error());
        if (!cert) {
            r.error(s.pos, s.name, std::string("cannot load: ") + cert.error().detail);
        } else if (!cert->info().ca) {
            r.error(s.pos, s.name, "not a CA certificate (no basicConstraints CA:TRUE)");
        } else {
            a.cacert = std::move(*cert);
        }
    };
    const auto uris = [&](std::vector<std::string>& list, bool crl) {
        return [&list, &r, &crls, &fs, crl](std::string_view v, const Setting& s) {
            for (const std::string& uri : split_list(v)) {
                if (auto why = revocation_uri_problem(uri, crl)) {
                    r.error(s.pos, s.name, *why);
                    continue;
                }
                list.push_back(uri);
                if (!uri.starts_with("file://")) {
                    continue;  // http(s): the fetcher's
                }
                auto got = read_crl_uri(uri, fs);
                if (!got) {
                    r.error(s.pos, s.name, "'" + uri + "': " + got.error().detail);
                    continue;
                }
                crls.push_back(
                        CrlFile{s.pos, key_path(r.prefix(), s.name) + " " + uri, std::move(*got)});
            }
        };
    };
    Handlers h;
    h["cacert"] = [&](std::string_view v, const Setting& s) {
        const std::string name(v);
        load_cert(name.starts_with("/") || dirs.base.empty() ? name : dirs.base + "/x509ca/" + name,
                  s);
    };
    h["file"] = [&](std::string_view v, const Setting& s) { load_cert(std::string(v), s); };
    for (const char* pkcs11 : {"handle", "slot", "module"}) {
        h[pkcs11] = unsupported(r, "PKCS#11 tokens are not supported; use cacert or file");
    }
    h["crl_uris"] = uris(a.crl_uris, true);
    h["ocsp_uris"] = uris(a.ocsp_uris, false);
    h["cert_uri_base"] = [&](std::string_view v, const Setting& s) {
        a.cert_uri_base = std::string(v);
        r.warning(s.pos, s.name,
                  "listed only: ikeplex sends whole certificates, not hash and URL (RFC 7296 "
                  "§3.6)");
    };
    apply_settings(ca, h, r);
    for (const Section& sub : ca.sections) {
        r.error(sub.pos, sub.name, "unknown section");
    }
    if (!a.cacert && r.errors() == before) {
        r.error(ca.pos, "cacert", "missing: give cacert (a file in x509ca/) or file");
    }
    if (r.errors() != before) {
        return;
    }
    if (auto st = out.credentials.add_ca(a.cacert->clone()); !st) {
        r.error(ca.pos, "cacert", st.error().detail);
        return;
    }
    for (CrlFile& f : crls) {
        if (auto copy = crypto::clone_crl(f.crl)) {
            crypto::hold_crl(out.credentials.crls, std::move(*copy));
        }
        out.crl_files.push_back(std::move(f));
    }
    out.credentials.authorities.push_back(std::move(a));
}

}  // namespace

std::optional<std::string> revocation_uri_problem(std::string_view uri, bool allow_file) {
    if (uri.starts_with("http://") || uri.starts_with("https://")) {
        return std::nullopt;
    }
    if (allow_file && uri.starts_with("file:///")) {
        return std::nullopt;
    }
    if (allow_file && uri.starts_with("file://")) {
        return "'" + std::string(uri) + "': a file URI needs an absolute path (file:///...)";
    }
    return "'" + std::string(uri) + "': only " +
           (allow_file ? "file, http and https" : "http and https") + " URIs are supported";
}

Result<crypto::Crl> read_crl_uri(std::string_view uri, const FileSystem& fs) {
    if (!uri.starts_with("file:///")) {
        return make_error(Errc::kInvalidArgument, "not a file:/// URI");
    }
    auto data = fs.read_file(std::string(uri.substr(std::string_view("file://").size())));
    if (!data) {
        return data.error();
    }
    return crypto::Crl::from_any(bytes_of(*data));
}

void map_authorities(const Section& authorities, const CredentialDirs& dirs, SwanctlConfig& out,
                     Findings& findings, const FileSystem& fs) {
    Reporter r(findings, "authorities");
    for (const Setting& s : authorities.settings) {
        r.error(s.pos, s.name, "unknown key (authorities holds sections)");
    }
    for (const Section& ca : authorities.sections) {
        map_authority(ca, dirs, out, findings, fs);
    }
}

void check_crls(const SwanctlConfig& config, std::int64_t now, Findings& findings) {
    for (const CrlFile& f : config.crl_files) {
        const crypto::CrlInfo info = crypto::crl_info(f.crl);
        const std::string name = f.name.empty() ? "" : f.name + ": ";
        if (crypto::find_crl_issuer(f.crl, config.credentials.ca_certs) == nullptr) {
            findings.warnings.push_back(
                    Diagnostic{f.pos, name + "not signed by any loaded CA (issuer '" + info.issuer +
                                              "'): it is not used until its CA is loaded"});
        }
        if (info.next_update != 0 && now >= info.next_update) {
            findings.warnings.push_back(
                    Diagnostic{f.pos, name + "expired (nextUpdate " + utc(info.next_update) +
                                              "): it gives no status, as if absent"});
        } else if (info.this_update > now) {
            findings.warnings.push_back(Diagnostic{
                    f.pos, name + "not valid yet (thisUpdate " + utc(info.this_update) + ")"});
        }
    }
}

}  // namespace ikeplex::config
