// ikeplexd.conf's RADIUS client, in the shape of strongSwan's charon.plugins.eap-radius (so a
// strongswan.conf section can be copied under `ikeplexd { plugins { ... } } }`):
//
//   plugins {
//       eap-radius {
//           servers {
//               NAME {
//                   address = 10.0.0.5   # IPv4 or IPv6 address of the RADIUS server
//                   secret = ...         # its shared secret (required)
//                   auth_port = 1812     # or port
//                   acct_port = 1813
//                   preference = 0       # higher first; equal ones in file order
//                   nas_identifier = ikeplex   # this server's NAS-Identifier
//               }
//           }
//           nas_identifier = ikeplex    # strongSwan's default is "strongSwan"
//           accounting = no             # RADIUS accounting Start/Stop (RFC 2866)
//           accounting_interval = 0s    # Interim-Update period, unless the Access-Accept's
//                                       # Acct-Interim-Interval gives one (0: none)
//           retransmit_timeout = 2.0    # seconds to the first retransmit
//           # (the three retransmit_* defaults are strongSwan's eap_radius_plugin.c ones)
//           retransmit_base = 1.4       # each further wait multiplied by this
//           retransmit_tries = 4        # retransmits to one server before the next one
//       }
//   }
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/settings.h"
#include "config/swanctl.h"
#include "ike/time.h"
#include "util/ip_address.h"
#include "util/secret_bytes.h"

namespace ikeplex::config {

struct RadiusServer {
    std::string name;  ///< the section's name
    IpAddress address;
    std::uint16_t auth_port{1812};
    std::uint16_t acct_port{1813};
    std::int32_t preference{0};
    std::string nas_identifier;  ///< NAS-Identifier for this server
    /// Shared (not copied) so that DaemonSettings stays copyable; never logged.
    std::shared_ptr<const SecretBytes> secret;
};

struct RadiusSettings {
    std::vector<RadiusServer> servers;  ///< sorted: preference descending, then file order
    bool accounting{false};
    ike::Duration accounting_interval{0};  ///< 0: no Interim-Update (unless the server asks)
    ike::Duration retransmit_timeout{2000};
    double retransmit_base{1.4};
    std::uint32_t retransmit_tries{4};
    [[nodiscard]] bool enabled() const noexcept { return !servers.empty(); }
};

/// Re-read on SIGHUP / reload-settings (docs/config.md "Reload"): new servers and secrets
/// serve the next conversations; those in flight finish on the old ones.
/// Maps `plugins { eap-radius { ... } }` of the ikeplexd section (`plugins` itself is the
/// section given); errors as "ikeplexd.plugins.eap-radius.<key>".
void map_radius_settings(const Section& plugins, RadiusSettings& out, Findings& findings);

}  // namespace ikeplex::config
