// swanctl.conf (strongSwan's swanctl.conf(5)) mapped onto the engine's configuration: the
// `connections`, `secrets` and `authorities` sections, and the credential folders beside the
// file (x509/, x509ca/, x509crl/, private/, rsa/, ecdsa/, pkcs8/) that `swanctl --load-all`
// reads.
//
// The same mapping serves a VICI load-conn message (swanctl sends each connection as a section
// with the same keys), so a connection maps from a settings Section either way.
//
// Keys ikeplex does not implement are never silently ignored: if they would change what the
// connection does they are errors ("file:line: connections.t.pools: ... not supported"); if
// the connection works as the operator expects without them they are warnings.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/file_system.h"
#include "config/settings.h"
#include "ike/config.h"
#include "ike/pools.h"

namespace ikeplex::config {

/// What a load produced, and what it had to say.
struct Findings {
    std::vector<Diagnostic> errors;
    std::vector<Diagnostic> warnings;
    [[nodiscard]] bool ok() const noexcept { return errors.empty(); }
};

/// A CRL read from the configuration (a file of `x509crl/`, or a `file://` entry of an
/// authority's `crl_uris`), kept with where it came from for `ikeplexd --check`.
struct CrlFile {
    SourcePos pos;     ///< the file (line 0), or the crl_uris setting
    std::string name;  ///< empty for a file; "authorities.ca.crl_uris file:///..." for a URI
    crypto::Crl crl;
};

struct SwanctlConfig {
    std::vector<ike::PeerConfig> connections;
    /// Connections of the file left out for errors (a reload keeps their previous version, as
    /// swanctl --load-all does).
    std::vector<std::string> failed_connections;
    ike::Credentials credentials;
    /// The CRLs of `x509crl/` and of `file://` crl_uris, each as read (`credentials.crls`
    /// holds the newest of each issuer).
    std::vector<CrlFile> crl_files;
    /// The `pools` that loaded (virtual IP address pools).
    std::vector<ike::PoolConfig> pools;
    /// Where each mapped connection's and child's section opens: "connections.<conn>" and
    /// "connections.<conn>.children.<child>" -> file:line (for findings made later, e.g. the
    /// backend's: check_backend(), check_secrets()).
    std::map<std::string, SourcePos> positions;
};

/// Where certificates and keys named in the configuration are looked up (swanctl's folders:
/// `<dir>/x509`, `<dir>/x509ca`, `<dir>/private`...). Empty: names must be absolute paths.
struct CredentialDirs {
    std::string base;
};

/// Maps a parsed swanctl.conf. Connections and secrets with errors are left out; the rest is
/// returned (as charon does: one bad connection does not stop the others).
SwanctlConfig load_swanctl(const Section& root, const CredentialDirs& dirs, Findings& findings,
                           const FileSystem& fs = real_file_system());

/// Parses and maps a swanctl.conf file; its folder is the credential folder base.
Result<SwanctlConfig> load_swanctl_file(const std::string& path, Findings& findings,
                                        const FileSystem& fs = real_file_system());

/// One connection section (`connections.<name>` of swanctl.conf, or a VICI load-conn body).
/// Certificates named in `local*.certs` / `remote*.cacerts` are read from `dirs` and added to
/// `credentials`. Errors leave nothing in the result (kConfig).
Result<ike::PeerConfig> map_connection(const Section& conn, const CredentialDirs& dirs,
                                       ike::Credentials& credentials, Findings& findings,
                                       const FileSystem& fs = real_file_system());

/// One `pools.<name>` section (or a VICI load-pool body): `addrs` and attributes.
Result<ike::PoolConfig> map_pool(const Section& sec, Findings& findings);
/// The `pools` section: each pool without errors goes to `out`.
void map_pools(const Section& sec, std::vector<ike::PoolConfig>& out, Findings& findings);

/// For `ikeplexd --check`: a connection naming a pool the file does not define (a warning).
void check_pools(const SwanctlConfig& config, Findings& findings);

/// The `x509crl/` folder (strongSwan's name): every file a PEM or DER CRL, into
/// `out.credentials.crls` and `out.crl_files`; a file that is not one is an error.
void load_crl_folder(const CredentialDirs& dirs, SwanctlConfig& out, Findings& findings,
                     const FileSystem& fs = real_file_system());
/// The `authorities` section (strongSwan's keys: cacert or file, crl_uris, ocsp_uris,
/// cert_uri_base) into `out.credentials.authorities`; each authority's CA is trusted, and the
/// CRLs of its `file://` crl_uris are read (http(s) ones are the fetcher's).
void map_authorities(const Section& authorities, const CredentialDirs& dirs, SwanctlConfig& out,
                     Findings& findings, const FileSystem& fs = real_file_system());
/// Why an authority's URI cannot be used (nullopt: it can): crl_uris take file://, http:// and
/// https://, ocsp_uris http:// and https://.
std::optional<std::string> revocation_uri_problem(std::string_view uri, bool allow_file);
/// The CRL a `file:///absolute/path` URI names.
Result<crypto::Crl> read_crl_uri(std::string_view uri, const FileSystem& fs = real_file_system());
/// For `ikeplexd --check` (and the daemon's load): each CRL read must be signed by a loaded
/// CA and current at `now` (warnings naming the file).
void check_crls(const SwanctlConfig& config, std::int64_t now, Findings& findings);

/// One `secrets.ike*` section: a shared key and the identities it belongs to.
Result<ike::Credentials::Psk> map_ike_secret(const Section& secret, Findings& findings);

/// Findings that need the whole file (connections and secrets), for `ikeplexd --check`: a
/// connection with `auth = psk` for which no secret matches its identities (strongSwan fails
/// at run time with "no shared key found for 'A' - 'B'") is a warning at the connection.
void check_secrets(const SwanctlConfig& config, Findings& findings);

/// strongSwan durations: "90" (seconds), "90s", "15m", "4h", "2d".
std::optional<ike::Duration> parse_duration(std::string_view text);
/// A decoded secret: "0x<hex>", "0s<base64>", or the text itself.
std::optional<SecretBytes> parse_secret(std::string_view text);

/// ikeplex's default proposals, used for "default" (strongSwan's defaults for the algorithms
/// ikeplex implements, AEAD first).
std::string default_ike_proposals();
std::string default_esp_proposals();

}  // namespace ikeplex::config
