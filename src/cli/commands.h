// `ikeplex`, the operator's command line over VICI (design.md §2): each command is a function
// of a connected client and an output stream, so tests can run them without a terminal.
#pragma once

#include <chrono>
#include <optional>
#include <ostream>
#include <string>

#include "vici/client.h"

namespace ikeplex::cli {

struct SaFilter {
    std::string ike;
    std::string ike_id;
};

/// `list-sas`: one line per IKE SA, one per Child SA with its CPU (RFC 9611: `cpu K`, `cpu -`
/// for a group's fallback), one summary line per per-CPU group; `json`: the raw tree as JSON.
int list_sas(vici::Client& c, const SaFilter& f, bool json, std::ostream& out);
/// `list-conns`.
int list_conns(vici::Client& c, bool json, std::ostream& out);
/// `list-certs`' filters (VICI list-certs: type X509|X509_CRL|...|ANY, flag NONE|CA|AA|OCSP|ANY,
/// subject); empty = not given.
struct CertQuery {
    std::string type;
    std::string flag;
    std::string subject;
};
/// `list-certs`: the daemon's certificates grouped as swanctl groups them (end entity, CA;
/// CRLs once the daemon has them), each decoded from its DER: subject, issuer, validity,
/// serial, subjectAltNames, key type and whether the daemon has its private key (certs.cc).
int list_certs(vici::Client& c, const CertQuery& q, bool json, std::ostream& out);
/// `list-authorities`: each authority's name and CA certificate subject (and CRL/OCSP URIs).
int list_authorities(vici::Client& c, const std::string& name, bool json, std::ostream& out);
/// `list-pools`: each pool's base, size, online and offline leases (swanctl --list-pools);
/// with `leases` each lease's address, identity and status; `name`: only that pool.
int list_pools(vici::Client& c, const std::string& name, bool leases, bool json, std::ostream& out);
/// `stats`.
int stats(vici::Client& c, bool json, std::ostream& out);
/// `counters`: the daemon's event counters (IKE_SA_INIT requests, COOKIEs, drops, ...).
int counters(vici::Client& c, bool json, std::ostream& out);

struct Target {
    std::string ike;
    std::string child;
    std::string ike_id;
    std::string child_id;
};
/// How long initiate, terminate and rekey wait: none given, the daemon's default (what its
/// retransmissions and, for initiate, keyingtries may take); 0: until the outcome, however
/// long; else that many seconds.
using Timeout = std::optional<std::chrono::seconds>;
/// `initiate`: streams the daemon's control log (up to `loglevel`), returns 0 on success.
int initiate(vici::Client& c, const Target& t, int loglevel, Timeout timeout, std::ostream& out);
int terminate(vici::Client& c, const Target& t, bool force, Timeout timeout, std::ostream& out);
/// `rekey`: waits for the rekey's outcome (streaming the control log); 1 if it was abandoned.
int rekey(vici::Client& c, const Target& t, int loglevel, Timeout timeout, std::ostream& out);
/// `redirect` (RFC 5685): the selectors and the target gateway as swanctl --redirect takes them.
struct RedirectArgs {
    std::string ike;
    std::string ike_id;
    std::string peer_ip;
    std::string peer_id;
    std::string gateway;
};
/// 0 if the daemon redirected what the selectors name, else its errmsg and 1.
int redirect(vici::Client& c, const RedirectArgs& a, std::ostream& out);
/// `log`: prints the daemon's log until the connection ends (or `limit` lines, 0 = no limit).
int log(vici::Client& c, std::size_t limit, std::ostream& out);
/// `load-all --file swanctl.conf`: connections, secrets, certificates and keys (swanctl's
/// folders beside the file), and unloads connections the file no longer has.
int load_all(vici::Client& c, const std::string& file, std::ostream& out, std::ostream& err);

/// The tree as JSON (values as strings, lists as arrays, sections as objects).
std::string to_json(const vici::Message& m);

}  // namespace ikeplex::cli
