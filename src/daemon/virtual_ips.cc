#include "daemon/virtual_ips.h"

#include <fstream>
#include <sstream>

#include "util/log.h"

namespace ikeplex::daemon {

using log::Subsystem;

std::string resolve_line(const IpAddress& dns) {
    return "nameserver " + dns.to_string() + "   # by ikeplexd";
}

std::string edit_resolv_conf(std::string text, const std::vector<IpAddress>& dns, bool add) {
    if (add) {
        std::string head;
        for (const IpAddress& d : dns) {
            head += resolve_line(d) + "\n";
        }
        return head + text;
    }
    for (const IpAddress& d : dns) {
        const std::string line = resolve_line(d) + "\n";
        if (const auto at = text.find(line); at != std::string::npos) {
            text.erase(at, line.size());
        }
    }
    return text;
}

void VirtualIpHost::apply(const ike::VirtualIpChange& change) {
    for (const IpAddress& a : change.addresses) {
        Users& users = users_[a];
        if (change.up && users.count++ == 0) {
            if (!install_()) {
                log::info(Subsystem::kKnl, "virtual IP {} not installed (install_virtual_ip = no)",
                          a);
            } else if (auto st = backend_.virtual_ip(a, true, change.peer); !st) {
                log::warn(Subsystem::kKnl, "installing virtual IP {} failed: {}", a,
                          st.error().to_string());
            } else {
                users.installed = true;
            }
        } else if (!change.up && users.count > 0 && --users.count == 0 && users.installed) {
            if (auto st = backend_.virtual_ip(a, false, change.peer); !st) {
                log::warn(Subsystem::kKnl, "removing virtual IP {} failed: {}", a,
                          st.error().to_string());
            }
        }
        if (users.count == 0) {
            users_.erase(a);
        }
    }
    if (!change.dns.empty()) {
        write_dns(change.dns, change.up);
    }
}

void VirtualIpHost::write_dns(const std::vector<IpAddress>& dns, bool add) {
    const std::string path = resolve_file_();
    std::string text;
    {
        std::ifstream in(path);
        std::stringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    }
    text = edit_resolv_conf(std::move(text), dns, add);
    std::ofstream out(path, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
        log::warn(Subsystem::kDmn, "cannot write DNS servers to {}", path);
        return;
    }
    for (const IpAddress& d : dns) {
        log::info(Subsystem::kDmn, "{} DNS server {} {} {}", add ? "installing" : "removing", d,
                  add ? "to" : "from", path);
    }
}

}  // namespace ikeplex::daemon
