// VICI credential commands: shared secrets (load-shared, unload-shared, get-shared), private
// keys (load-key, get-keys), certificates and CRLs (load-cert), authorities (load-authority,
// unload-authority, get-authorities, list-authorities: vici_authorities.cc), their listings
// (list-certs, list-authorities: vici_certs.h), and clear-creds. What is loaded over VICI is kept,
// so that a reload of swanctl.conf (which replaces the engine's credentials) keeps it. A CA
// certificate that cannot be loaded or trusted is refused with the reason, counted
// (vici-ca-refused) and logged, rate-limited.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/swanctl.h"
#include "daemon/engine_host.h"
#include "daemon/vici_command.h"
#include "util/log.h"
#include "vici/server.h"

namespace ikeplex::daemon {

/// A load-authority section (strongSwan's keys: cacert data or file, crl_uris, ocsp_uris,
/// cert_uri_base) into `a`, with the CRLs its file:// crl_uris name in `crls` (DER). Returns
/// why not (charon's wording where it has one; the authority is then discarded), else "".
std::string parse_vici_authority(const vici::Section& sec, ike::Credentials::Authority& a,
                                 std::vector<Bytes>& crls);

class CredentialCommands {
public:
    /// `reload_file`: loads swanctl.conf again (clear-creds keeps the file's credentials).
    CredentialCommands(EngineHost& host, DaemonCounters& counters,
                       std::function<void()> reload_file)
        : host_(host), counters_(counters), reload_file_(std::move(reload_file)) {}

    void register_with(vici::Server& server);
    /// The engine's credentials become `from_file` (swanctl.conf's) plus everything loaded
    /// over VICI.
    void rebuild(ike::Credentials from_file);
    /// The certificates that came with a load-conn join the VICI credentials, CAs first.
    /// Returns why a CA among them cannot be trusted (the connection is then refused).
    [[nodiscard]] std::optional<std::string> adopt(ike::Credentials& from_conn);

private:
    void load_shared(const vici::Message& req, const vici::Reply& reply);
    void unload_shared(const vici::Message& req, const vici::Reply& reply);
    void get_shared(const vici::Message& req, const vici::Reply& reply);
    void get_keys(const vici::Message& req, const vici::Reply& reply);
    void load_key(const vici::Message& req, const vici::Reply& reply);
    void load_cert(const vici::Message& req, const vici::Reply& reply);
    void load_authority(const vici::Message& req, const vici::Reply& reply);
    void unload_authority(const vici::Message& req, const vici::Reply& reply);
    void get_authorities(const vici::Message& req, const vici::Reply& reply);
    void list_certs(const vici::Message& req, const vici::Reply& reply);
    void list_authorities(const vici::Message& req, const vici::Reply& reply);
    void clear_creds(const vici::Message& req, const vici::Reply& reply);
    /// load-cert with type X509_CRL (swanctl's x509crl/): held, and kept for rebuilds.
    void load_crl(const vici::KeyValue* data, const vici::Reply& reply);
    /// Adds the authorities and CRLs loaded over VICI to `creds` (an authority replaces one of
    /// swanctl.conf with its name; a CA no longer trusted is refused()).
    void add_vici_authorities(ike::Credentials& creds);
    /// The engine's shared secrets become those loaded over VICI.
    void relist_shared();
    /// The list of `creds` that the shared secret `id` belongs in (by its type).
    std::vector<ike::Credentials::Psk>& shared_list(ike::Credentials& creds,
                                                    const std::string& id) const;
    /// Trusts CA `cert` (encoded as `der`) and keeps it for rebuilds. Returns why not
    /// ("cannot load <noun>: ...", "cannot trust <noun>: ...") after refused().
    std::optional<std::string> trust(Result<crypto::Certificate> cert, const Bytes& der,
                                     const std::string& noun);
    /// Counts a refused CA and logs why (rate-limited: a client can send many).
    void refused(const std::string& why);

    EngineHost& host_;
    DaemonCounters& counters_;
    std::function<void()> reload_file_;
    log::RateLimiter refused_log_{10, 10000};
    std::map<std::string, ike::Credentials::Psk> shared_;  ///< load-shared, by id
    std::set<std::string> shared_eap_;  ///< the ids of shared_ loaded with type EAP
    std::set<std::string> shared_ppk_;  ///< the ids of shared_ loaded with type PPK (RFC 8784)
    std::vector<Bytes> certs_;          ///< load-cert (flag NONE)
    std::vector<Bytes> cas_;            ///< load-cert (CA), load-authority
    std::vector<Bytes> keys_;           ///< load-key
    /// load-authority, by name (vici_authorities.cc)
    std::map<std::string, ike::Credentials::Authority> vici_authorities_;
    std::vector<Bytes> crls_;  ///< load-cert type X509_CRL, and authorities' file:// CRLs
};

}  // namespace ikeplex::daemon
