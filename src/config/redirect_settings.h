// ikeplexd.conf's RFC 5685 gateway rules (the client side is one key, follow_redirects):
//
//   redirect {
//       NAME {                            # rules are tried in file order; the first wins
//           gateway = 10.0.0.2            # where to send the client: address or FQDN
//           remote_addrs = 10.1.0.0/16    # the client's address in one of these (default: any)
//           established_above = 1000      # only while more IKE SAs than this are established
//           remote_id = *@example.com     # IDi patterns (fnmatch(3)): checked in IKE_AUTH
//       }
//   }
//
// A rule without remote_id redirects in IKE_SA_INIT (before any state); one with remote_id in
// IKE_AUTH, once the client authenticated. Only clients that announced REDIRECT_SUPPORTED are
// redirected.
#pragma once

#include <vector>

#include "config/settings.h"
#include "config/swanctl_values.h"
#include "ike/redirect_config.h"

namespace ikeplex::config {

/// Maps `redirect { }` into rules; errors "file:line: redirect.NAME.key: what is wrong".
void map_redirect_settings(const Section& sec, std::vector<ike::RedirectRule>& out, Reporter& r);

}  // namespace ikeplex::config
