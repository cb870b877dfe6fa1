// ikeplexd.conf: the daemon's own settings, in strongSwan's settings syntax, under one
// `ikeplexd { }` section (names follow charon's strongswan.conf settings where charon has one).
//
//   ikeplexd {
//       listen = 0.0.0.0, ::        # addresses to bind (default: all of both families)
//       port = 500                  # IKE
//       port_nat_t = 4500           # IKE and ESP in UDP (RFC 3948)
//       vici = unix:///run/ikeplexd/ikeplexd.vici
//       vici_max_clients = 256      # VICI clients served at once (more are closed at once)
//       vici_swanctl_socket = no    # also serve VICI on strongSwan's default socket
//                                   #   (unix:///var/run/charon.vici): plain `swanctl` works
//       backend = userspace         # userspace | none | xfrm
//       workers = 0                 # data-plane workers / RFC 9611 resources (0: one per CPU)
//       tun = ikeplex0              # userspace: the multi-queue TUN device (one queue per worker)
//       mtu = 1400                  # userspace: the TUN device's MTU
//       offloads = yes              # userspace: TSO/USO on the TUN, UDP GSO/GRO on ESP sockets
//       raw_esp = no                # userspace: ESP without UDP where no NAT (else always UDP)
//       ipsec_mb = yes              # userspace: Intel IPsec-MB for AES-GCM where it can
//       swanctl_conf = /etc/swanctl/swanctl.conf   # loaded at start and on SIGHUP (optional)
//       retransmit_timeout = 4.0    # seconds; retransmit_base = 1.8; retransmit_tries = 5
//       half_open_timeout = 30
//       revocation_timeout = 12     # seconds IKE_AUTH waits for a CRL/OCSP status (then unknown)
//       max_revocation_holds = 256  # IKE SAs waiting at once (beyond: decided as unknown)
//       dos_protection = yes        # COOKIEs and per-address blocking (charon's keys; 0 = off):
//       cookie_threshold = 30       #   half-open IKE SAs in all from which COOKIEs are required
//       cookie_threshold_ip = 3     #   half-open IKE SAs of one address: COOKIEs from it
//       block_threshold = 5         #   half-open IKE SAs of one address: its requests ignored
//       init_limit_half_open = 10000  # half-open IKE SAs in all: every request ignored
//       max_child_sas = 1024        # Child SAs per IKE SA (beyond: NO_ADDITIONAL_SAS)
//       fragment_size = 1280
//       window_size = 1             # our SET_WINDOW_SIZE for every connection
//       delete_rekeyed_delay = 5
//       keep_alive = 20             # seconds between NAT keepalives (0: none)
//       updown_timeout = 30         # seconds an updown script may run before it is killed
//       save_keys {               # Wireshark key logs (off by default; anyone who reads them
//           ike = /path/ikev2_decryption_table   # can decrypt the traffic)
//           esp = /path/esp_sa
//       }
//       install_virtual_ip = yes    # put virtual IPs a peer assigns us on an interface
//       install_virtual_ip_on =     # that interface (read at start; default: userspace, the
//                                   #   TUN device; xfrm, the one of the route to the peer)
//       follow_redirects = yes      # RFC 5685 client: follow a gateway's REDIRECT
//       redirect {                  # RFC 5685 gateway rules (config/redirect_settings.h):
//           NAME { gateway = ADDRESS|FQDN, remote_addrs, established_above, remote_id }
//       }
//       tls {                       # EAP-TLS, both roles (strongSwan's charon.tls)
//           version_min = 1.2       #   1.2 or 1.3
//           version_max = 1.2       #   1.3: RFC 9190 (strongSwan 5.9.8 does not interoperate)
//       }
//       resolve {                   # DNS servers a peer assigns us (virtual IPs)
//           file = /etc/resolv.conf #   "nameserver" lines added, removed when the IKE SA goes
//       }
//       metrics {                   # Prometheus endpoint (off unless listen is set)
//           listen = 127.0.0.1:9903 #   IPv4 ADDRESS:PORT
//           per_sa = no             #   also one series per IKE / Child SA
//       }
//       plugins {                   # strongSwan's charon.plugins, for the RADIUS client only
//           eap-radius {            #   (config/radius_settings.h; off without servers)
//               servers { NAME { address, secret, auth_port, acct_port, preference } }
//               nas_identifier = ikeplex
//               accounting = no     #   Start/Stop (and Interim-Update) to the servers
//               retransmit_timeout = 2.0  # retransmit_base = 1.4; retransmit_tries = 4
//           }
//       }
//       log {
//           default = 1             # strongSwan levels: -1 silent .. 4 raw
//           ike = 2                 # per group: dmn ike chd cfg knl net enc esp lib vci
//           target = stderr         # stderr | syslog | journald | a file path
//           time_format = %Y-%m-%d %H:%M:%S   # strftime(3) time of each line (file, stderr)
//           time_add_ms = yes       # milliseconds after the time
//       }
//   }
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/radius_settings.h"
#include "config/settings.h"
#include "config/swanctl.h"
#include "ike/config.h"
#include "util/ip_address.h"

namespace ikeplex::config {

/// Where strongSwan's swanctl (and every libvici client) connects without --uri.
inline constexpr std::string_view kCharonViciPath = "/var/run/charon.vici";
/// Wireshark key logs (daemon/key_log.h): the files (nothing is saved while one is empty).
struct SaveKeys {
    std::string ike;  ///< ikev2_decryption_table lines
    std::string esp;  ///< esp_sa lines
};

/// The Prometheus endpoint (`metrics { listen, per_sa }`): off while `listen` is unset.
struct MetricsSettings {
    std::optional<Endpoint> listen;
    bool per_sa{false};  ///< series per IKE SA and Child SA (else only bounded labels)
};

struct DaemonSettings {
    std::vector<IpAddress> listen{IpAddress::any(4), IpAddress::any(6)};
    std::uint16_t port{500};
    std::uint16_t port_nat_t{4500};
    std::string vici{"unix:///run/ikeplexd/ikeplexd.vici"};
    std::uint32_t vici_max_clients{256};
    /// Also serve VICI on strongSwan's default socket (kCharonViciPath), so that `swanctl`
    /// without --uri reaches ikeplexd; never taken over from a running charon.
    bool vici_swanctl_socket{false};
    std::string backend{"userspace"};
    std::uint32_t workers{0};
    std::string tun_name{"ikeplex0"};
    std::uint32_t mtu{1400};
    bool offloads{true};
    bool raw_esp{false};
    bool ipsec_mb{true};
    std::string swanctl_conf;  ///< empty: connections come over VICI only
    ike::Settings engine;
    std::uint32_t window_size{1};
    /// RFC 3948 NAT keepalive interval from behind a NAT (charon.keep_alive; 0: none).
    ike::Duration keep_alive{std::chrono::seconds(20)};
    /// How long an updown script may run before it is killed (SIGKILL to its process group).
    ike::Duration updown_timeout{std::chrono::seconds(30)};
    int log_default{1};
    std::map<std::string, int> log_levels;  ///< group ("ike") -> strongSwan level
    std::string log_target{"stderr"};
    SaveKeys save_keys;
    MetricsSettings metrics;
    RadiusSettings radius;  ///< plugins { eap-radius { } }
    /// Where DNS servers a peer assigned us (RFC 7296 §3.15.1) are written as "nameserver"
    /// lines, removed when the IKE SA goes (strongSwan's resolve plugin: /etc/resolv.conf).
    std::string resolve_file{"/etc/resolv.conf"};
    /// The interface they go on (charon.install_virtual_ip_on; read at start); empty: the
    /// backend's choice (userspace: the TUN device; xfrm: the interface of the route to the
    /// peer).
    std::string install_virtual_ip_on;
    /// EAP-TLS protocol versions, both roles (`tls { version_min, version_max }`, strongSwan
    /// 5.9.8's charon.tls.*): 0x0303 TLS 1.2, 0x0304 TLS 1.3 (RFC 9190).
    std::uint16_t tls_version_min{0x0303};
    std::uint16_t tls_version_max{0x0303};
    /// strftime(3) format of each line's time; unset: "%Y-%m-%d %H:%M:%S" in a file, "%H:%M:%S"
    /// on stderr (syslog and journald record the time themselves).
    std::optional<std::string> log_time_format;
    bool log_time_add_ms{true};  ///< ".123" after the time
    /// Whether virtual IPs a peer assigned us go onto an interface (charon.install_virtual_ip;
    /// no: the operator puts them somewhere, the Child SA's selectors still use them).
    bool install_virtual_ip{true};
    /// `legacy_algorithms = warn | refuse` (issue 24): proposals naming SHA1, MODP 1024/1536 or
    /// 3DES load with a warning, or are refused (check_legacy). strongSwan has no such key.
    bool refuse_legacy{false};
};

/// Maps the `ikeplexd` section of a parsed ikeplexd.conf (errors and warnings as for
/// swanctl.conf: unknown keys are errors).
DaemonSettings map_daemon_settings(const Section& root, Findings& findings);

/// What `backend` makes of connection `c`, added to `out` as "file:line: ..." findings (the
/// child's section in `positions`, "connections.<conn>.children.<child>"; no position for a
/// connection loaded over VICI). `kernel_per_cpu`: the xfrm backend's probe found per-CPU SAs
/// (XFRMA_SA_PCPU); pass true when unknown (--check).
/// - error (the connection cannot run): per_cpu_sas with backend xfrm on a kernel without
///   per-CPU SAs;
/// - warning (how the group will start): per_cpu_sas with backend xfrm, neither start_action =
///   trap nor per_cpu_sas_start = all: nothing of ours raises the first, CPU-less acquire, so
///   the group starts when the peer or `ikeplex initiate` (or start_action = start) brings up
///   the fallback; its policy's per-CPU acquires then bring one member per CPU (design.md §4).
void check_backend(const ike::PeerConfig& c, std::string_view backend, bool kernel_per_cpu,
                   const std::map<std::string, SourcePos>& positions, Findings& out);

/// `remote { auth = eap-radius }` of connection `c` needs the RADIUS servers of ikeplexd.conf
/// (`plugins { eap-radius { servers { ... } } }`): an error otherwise.
void check_radius(const ike::PeerConfig& c, bool radius_enabled,
                  const std::map<std::string, SourcePos>& positions, Findings& out);

/// Parses and maps ikeplexd.conf.
Result<DaemonSettings> load_daemon_settings(const std::string& path, Findings& findings,
                                            const FileSystem& fs = real_file_system());

}  // namespace ikeplex::config
