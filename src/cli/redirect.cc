// `ikeplex redirect`: VICI `redirect` (RFC 5685; strongSwan's selectors and answer).
#include <ostream>
#include <utility>

#include "cli/commands.h"

namespace ikeplex::cli {

int redirect(vici::Client& c, const RedirectArgs& a, std::ostream& out) {
    vici::Message req;
    const std::pair<const char*, const std::string*> keys[] = {
            {"ike", &a.ike},         {"ike-id", &a.ike_id},   {"peer-ip", &a.peer_ip},
            {"peer-id", &a.peer_id}, {"gateway", &a.gateway},
    };
    for (const auto& [key, value] : keys) {
        if (!value->empty()) {
            req.add(key, *value);
        }
    }
    auto r = c.request("redirect", req);
    if (!r) {
        out << "error: " << r.error().to_string() << '\n';
        return 1;
    }
    if (r->get("success") == std::optional<std::string_view>("yes")) {
        out << "redirect completed successfully\n";
        return 0;
    }
    out << "redirect failed: " << r->get("errmsg").value_or("(no reason given)") << '\n';
    return 1;
}

}  // namespace ikeplex::cli
