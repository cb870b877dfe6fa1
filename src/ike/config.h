// The engine's view of configuration: connections (PeerConfig) with their children
// (ChildConfig), credentials, and engine-wide settings. The config layer builds these from
// swanctl.conf; tests build them directly. Defaults follow strongSwan's where it has one.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/crl.h"
#include "crypto/signature.h"
#include "crypto/x509.h"
#include "ike/identity.h"
#include "ike/redirect_config.h"
#include "ike/time.h"
#include "ike/traffic_selector.h"
#include "util/ip_address.h"
#include "util/secret_bytes.h"
#include "wire/payloads.h"

namespace ikeplex::ike {

enum class Mode : std::uint8_t { kTunnel, kTransport };
/// swanctl.conf's start_action: what loading the connection does (strongSwan 6 also takes
/// "trap|start": a trap policy, and the Child SA started at once).
enum class StartAction : std::uint8_t { kNone, kTrap, kStart, kTrapStart };
[[nodiscard]] constexpr bool traps(StartAction a) noexcept {
    return a == StartAction::kTrap || a == StartAction::kTrapStart;
}
[[nodiscard]] constexpr bool starts(StartAction a) noexcept {
    return a == StartAction::kStart || a == StartAction::kTrapStart;
}
/// swanctl.conf's dpd_action: what happens to a Child SA whose peer stopped answering (DPD
/// or any request's retransmissions timed out): nothing more, a trap policy, or the
/// connection initiated again at once.
enum class DpdAction : std::uint8_t { kClear, kTrap, kRestart };
/// swanctl.conf's close_action: what happens when the peer deletes the Child SA or its IKE SA.
enum class CloseAction : std::uint8_t { kNone, kTrap, kStart };
/// kEap: EAP in IKE_AUTH (RFC 7296 §2.16; `auth = eap[-method]`).
enum class AuthKind : std::uint8_t { kPsk, kPubkey, kEap };
/// swanctl.conf `unique` (strongSwan's uniqueness policy; src/ike/uniqueness.cc).
enum class UniquePolicy : std::uint8_t { kNo, kIgnoreInitialContact, kKeep, kReplace };

/// Child SA lifetimes (strongSwan: rekey_time 1h, life_time = rekey_time * 1.1,
/// rand_time = life_time - rekey_time; the same for bytes and packets). Each rekey limit is
/// lowered by a random part of its rand_* for each Child SA.
struct Lifetimes {
    Duration rekey_time{std::chrono::hours(1)};
    Duration life_time{std::chrono::minutes(66)};
    Duration rand_time{std::chrono::minutes(6)};
    std::uint64_t rekey_bytes{0};
    std::uint64_t life_bytes{0};
    std::uint64_t rand_bytes{0};  ///< up to this much less than rekey_bytes, at random
    std::uint64_t rekey_packets{0};
    std::uint64_t life_packets{0};
    std::uint64_t rand_packets{0};
    bool operator==(const Lifetimes&) const = default;
};

/// RFC 9611 member creation: on demand from acquires naming a resource, or all at once.
enum class PerCpuStart : std::uint8_t { kAcquire, kAll };

struct ChildConfig {
    std::string name;
    std::vector<TrafficSelector> local_ts;   ///< empty: the local address
    std::vector<TrafficSelector> remote_ts;  ///< empty: the remote address
    std::vector<wire::Proposal> esp_proposals;
    Mode mode{Mode::kTunnel};
    StartAction start_action{StartAction::kNone};
    DpdAction dpd_action{DpdAction::kClear};
    CloseAction close_action{CloseAction::kNone};
    Lifetimes lifetimes;
    /// Packets. charon's default is 32; ikeplex's is 1024 because its data plane has several
    /// workers: a fallback SA shared by them, or a peer's, delivers packets reordered by more
    /// than 32, which a small window drops as replays (RFC 4303 §3.4.3 lets the receiver pick).
    std::uint32_t replay_window{1024};
    /// RFC 9611 per-resource Child SA groups (strongSwan's `per_cpu_sas = yes`).
    bool per_cpu_sas{false};
    /// ikeplex: the most resource-bound members of a group (the fallback not counted).
    std::uint32_t per_cpu_sas_max{64};
    /// ikeplex: `per_cpu_sas_start = acquire | all`.
    PerCpuStart per_cpu_sas_start{PerCpuStart::kAcquire};
    /// strongSwan's `updown`: a command run by `/bin/sh -c` when a Child SA comes up or goes
    /// down (the daemon runs it; empty: none).
    std::string updown;
    /// strongSwan's `hostaccess`: PLUTO_HOST_ACCESS=1 for the updown script.
    bool hostaccess{false};
    bool operator==(const ChildConfig&) const = default;
};

/// The EAP type of a method by strongSwan's name ("md5" of `auth = eap-md5`), if known.
std::optional<std::uint8_t> eap_method_type(std::string_view name);
/// strongSwan's name of an EAP type in list-conns' eap-type ("EAP_MD5", "EAP_MSCHAPV2").
std::string eap_method_name(std::uint8_t type);

struct AuthConfig {
    AuthKind kind{AuthKind::kPsk};
    Identity id;  ///< local: our identity; remote: the identity we require ("%any" = any)
    /// kEap: the method's EAP type (`auth = eap-md5` gives 4); 0: `auth = eap`, any method.
    std::uint8_t eap_type{0};
    /// `auth = eap-radius` (parsed and kept; the RADIUS backend is not wired yet).
    bool eap_radius{false};
    /// `eap_id`. Local: our EAP identity (unset: the IKE identity). Remote: the EAP identity
    /// the peer must have; "%any" asks for it with EAP-Identity (unset: its IKE identity).
    std::optional<Identity> eap_id{};
    /// `aaa_id`: the identity of the AAA (RADIUS) server (kept for EAP-RADIUS).
    std::optional<Identity> aaa_id{};
    /// remote `revocation` (strict | ifuri | relaxed): docs/revocation.md.
    crypto::RevocationMode revocation{crypto::RevocationMode::kRelaxed};
    bool operator==(const AuthConfig&) const = default;
};

struct PeerConfig {
    std::string name;
    std::vector<IpAddress> local_addrs;   ///< empty: any
    std::vector<IpAddress> remote_addrs;  ///< empty: any (responder only)
    std::uint16_t local_port{500};
    std::uint16_t remote_port{500};
    std::vector<wire::Proposal> ike_proposals;
    AuthConfig local;
    AuthConfig remote;
    /// RFC 4739: our further authentication rounds after `local` (swanctl's `local-2`, ...,
    /// in the order of their suffix). Today at most one, an EAP round of the initiator.
    std::vector<AuthConfig> local_more{};
    /// RFC 4739: the peer's further rounds after `remote` (`remote-2`): today at most one, an
    /// EAP round after a certificate or PSK round, which we as the responder run as server.
    std::vector<AuthConfig> remote_more{};
    bool fragmentation{true};  ///< offer IKEV2_FRAGMENTATION_SUPPORTED, fragment when needed
    bool force_encap{false};   ///< fake a NAT to force UDP encapsulation (as strongSwan's encap)
    /// RFC 4555 MOBIKE offered (swanctl.conf's `mobike`, default yes there; off in the bare
    /// model so that engine tests opt in).
    bool mobike{false};
    std::uint32_t window_size{1};                ///< our SET_WINDOW_SIZE (RFC 7296 §2.3)
    Duration dpd_delay{0};                       ///< 0: no liveness checks
    Duration rekey_time{std::chrono::hours(4)};  ///< IKE SA rekeying (0: never)
    Duration rand_time{std::chrono::minutes(24)};
    Duration over_time{std::chrono::minutes(24)};  ///< hard end after rekey_time if not rekeyed
    /// Reauthentication (0: never): a new IKE SA from IKE_SA_INIT with every Child SA, then the
    /// old one deleted (Settings::make_before_break), or the other way round. The hard end is
    /// over_time after it.
    Duration reauth_time{0};
    /// Attempts to establish the IKE SA as initiator, each a whole retransmission sequence
    /// (strongSwan's keyingtries); 0: until it succeeds. Retries back off (Settings).
    std::uint32_t keyingtries{1};
    std::vector<ChildConfig> children;
    /// Virtual IPs to ask for (RFC 7296 §2.19; 0.0.0.0 / ::: any), swanctl.conf's `vips`.
    std::vector<IpAddress> vips;
    /// Pools (by name, in order) to lease the peer's virtual IPs from, swanctl.conf's `pools`.
    std::vector<std::string> pools;
    /// What a new IKE SA with the identities of an existing one does to it (swanctl.conf
    /// `unique`, checked as the responder completes IKE_AUTH; never: no INITIAL_CONTACT sent).
    UniquePolicy unique{UniquePolicy::kNo};
    /// RFC 8784: the PPK_ID of the post-quantum preshared key to use (swanctl.conf's
    /// `ppk_id`); as responder, the one the peer must send if set.
    std::optional<Identity> ppk_id{};
    /// RFC 8784: no IKE SA without a PPK (swanctl.conf's `ppk_required`).
    bool ppk_required{false};

    [[nodiscard]] const ChildConfig* child(std::string_view n) const;
    bool operator==(const PeerConfig&) const = default;
};

/// Secrets and certificates, as swanctl's "secrets" section and credential folders give them.
struct Credentials {
    struct Psk {
        std::vector<Identity> ids;  ///< empty: any pair of identities
        SecretBytes secret;
    };
    struct Own {
        crypto::Certificate cert;
        crypto::PrivateKey key;
    };
    std::vector<Psk> psks;
    /// `secrets { eap-<name> { id = ..., secret = ... } }` and VICI load-shared type EAP.
    std::vector<Psk> eap_secrets;
    /// RFC 8784: `secrets { ppk<name> { id = ..., secret = ... } }` and VICI load-shared type
    /// PPK; `ids` are the PPK_IDs the key is known by.
    std::vector<Psk> ppks;
    std::vector<Own> certs;
    crypto::CertStore cas;
    std::vector<crypto::Certificate> ca_certs;  ///< for CERTREQ hashes
    /// CRLs held (files; later VICI and the fetcher's cache): docs/revocation.md.
    std::vector<crypto::Crl> crls;
    /// swanctl.conf `authorities` and VICI load-authority: where a CA's revocation status
    /// comes from.
    struct Authority {
        std::string name;
        std::optional<crypto::Certificate> cacert;  ///< `cacert` (a file in x509ca/) or `file`
        std::vector<std::string> crl_uris;
        std::vector<std::string> ocsp_uris;
        std::string cert_uri_base;
    };
    std::vector<Authority> authorities;
    /// Certificates and keys loaded separately (swanctl's folders, VICI load-cert / load-key)
    /// that have not met their other half yet.
    std::vector<crypto::Certificate> pending_certs;
    std::vector<crypto::PrivateKey> pending_keys;

    /// Adds one of our certificates or private keys; a certificate and its key become an
    /// entry of `certs` as soon as both are present.
    /// Loading the same certificate or key twice (a folder and a `certs` key name the same
    /// file) keeps one.
    void add_own_cert(crypto::Certificate cert);
    void add_key(crypto::PrivateKey key);
    /// Adds a trusted CA certificate (once).
    Status add_ca(crypto::Certificate cert);

    /// The shared key for a pair of identities (strongSwan: the entry listing both, else one
    /// listing either, else one listing none).
    [[nodiscard]] const SecretBytes* find_psk(const Identity& a, const Identity& b) const;
    /// The EAP secret for a pair of identities, chosen as find_psk() chooses.
    [[nodiscard]] const SecretBytes* find_eap(const Identity& a, const Identity& b) const;
    /// The post-quantum preshared key known by PPK_ID `ppk_id` (its octets, RFC 8784 §5.1
    /// PPK_ID_FIXED without the type octet), or null.
    [[nodiscard]] const SecretBytes* find_ppk(ByteView ppk_id) const;
    /// Our certificate and key for identity `id`.
    [[nodiscard]] const Own* find_own(const Identity& id) const;
    /// CERTREQ data: the SHA-1 hashes of our trusted CAs' public keys, concatenated.
    [[nodiscard]] Bytes certreq_data() const;
    /// The CA certificates sent after our certificate `cert` (RFC 7296 §3.6): the intermediates
    /// above it among the CAs held (x509ca/, PKCS#12 bundles) and the certificates without a
    /// key (x509/), nearest first, without the self-signed root (as strongSwan sends them).
    [[nodiscard]] std::vector<const crypto::Certificate*> chain_of(
            const crypto::Certificate& cert) const;
};

/// A connection as the engine holds it: shared and immutable. An IKE SA keeps the
/// configuration it was made with alive; a reload replaces the list, never an object in it.
using ConfigPtr = std::shared_ptr<const PeerConfig>;

/// The loaded connections, iterated as `const PeerConfig&`.
class ConfigList {
public:
    class Iterator {
    public:
        using Inner = std::vector<ConfigPtr>::const_iterator;
        explicit Iterator(Inner it) noexcept : it_(it) {}
        const PeerConfig& operator*() const noexcept { return **it_; }
        const PeerConfig* operator->() const noexcept { return it_->get(); }
        Iterator& operator++() noexcept {
            ++it_;
            return *this;
        }
        bool operator==(const Iterator&) const = default;

    private:
        Inner it_;
    };

    ConfigList() = default;
    /// The list is immutable: its name index is built here.
    explicit ConfigList(std::vector<ConfigPtr> items);

    [[nodiscard]] Iterator begin() const noexcept { return Iterator(items_.begin()); }
    [[nodiscard]] Iterator end() const noexcept { return Iterator(items_.end()); }
    [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
    [[nodiscard]] bool empty() const noexcept { return items_.empty(); }
    [[nodiscard]] const PeerConfig& front() const noexcept { return *items_.front(); }
    [[nodiscard]] const std::vector<ConfigPtr>& items() const noexcept { return items_; }
    /// The connection called `name` (the first of that name), or null.
    [[nodiscard]] ConfigPtr find(std::string_view name) const;

private:
    std::vector<ConfigPtr> items_;
    std::map<std::string, std::size_t, std::less<>> by_name_;  ///< name -> index in items_
};

/// Engine-wide behaviour (strongSwan's charon.* settings where they exist).
struct Settings {
    Duration retransmit_timeout{std::chrono::milliseconds(4000)};
    double retransmit_base{1.8};
    std::uint32_t retransmit_tries{5};
    Duration half_open_timeout{std::chrono::seconds(30)};
    // Half-open IKE SAs (half_open.h): each threshold is "from this many on"; kNoLimit turns
    // one off (ikeplexd.conf's 0 or dos_protection = no, as in strongSwan).
    static constexpr std::uint32_t kNoLimit = UINT32_MAX;
    std::uint32_t cookie_threshold{30};    ///< in all, from which every initiator needs a COOKIE
    std::uint32_t cookie_threshold_ip{3};  ///< of one address, from which it needs a COOKIE
    std::uint32_t block_threshold{5};      ///< of one address, from which it is ignored
    std::uint32_t init_limit_half_open{10000};  ///< in all, from which everyone is ignored
    /// Child SAs per IKE SA (RFC 9611 group members and fallbacks included; a rekey's
    /// successor beside its predecessor counts once): a request for one more is answered
    /// with NO_ADDITIONAL_SAS, and we ask for none beyond it.
    std::uint32_t max_child_sas{1024};
    std::size_t fragment_size{1280};  ///< IKE message size that triggers fragmentation
    Duration delete_rekeyed_delay{std::chrono::seconds(5)};
    std::uint32_t max_cookie_retries{3};
    /// EAP requests in one IKE_AUTH, either role, before it fails (a hostile peer must not
    /// keep an IKE SA half-open; strongSwan's limit is 50 [R]).
    std::uint32_t max_eap_rounds{50};
    /// How long the responder waits for the AAA backend's answer to one EAP query.
    Duration eap_backend_timeout{std::chrono::seconds(10)};
    /// How long IKE_AUTH holds for the answer to a RevocationQuery (revocation_query.h); then
    /// the status counts as unknown. Above the fetcher's 10 s per fetch (docs/revocation.md).
    Duration revocation_timeout{std::chrono::seconds(12)};
    /// IKE SAs holding IKE_AUTH for a revocation status at once; beyond, the status of a new
    /// one is decided as unknown at once (counted).
    std::uint32_t max_revocation_holds{256};
    /// keyingtries: the wait before retry n is restart_delay * 2^(n-1), at most
    /// restart_delay_max, plus up to half of it at random (retries of many connections spread).
    Duration restart_delay{std::chrono::seconds(1)};
    Duration restart_delay_max{std::chrono::seconds(60)};
    /// Reauthentication sets up the new IKE SA and its Child SAs before deleting the old one
    /// (strongSwan 6's default); false: deletes first, then sets up again.
    bool make_before_break{true};
    /// Local resources (CPUs / data-plane workers) that RFC 9611 members bind to.
    std::uint32_t resources{1};
    /// After TS_MAX_QUEUE, no new member is requested for this long (or until one goes away).
    Duration group_full_backoff{std::chrono::seconds(60)};
    /// Fake a NAT on every IKE SA so ESP always goes in UDP (the userspace data plane without
    /// raw ESP sockets; strongSwan's libipsec does the same).
    bool force_encap{false};
    /// RFC 5685, client role: follow a gateway's REDIRECT (charon.follow_redirects); no: we do
    /// not announce REDIRECT_SUPPORTED, so gateways do not redirect us.
    bool follow_redirects{true};
    /// RFC 5685, gateway role: the `redirect { }` rules of ikeplexd.conf, in file order.
    std::vector<RedirectRule> redirect_rules;
};

}  // namespace ikeplex::ike
