#include "daemon/vici_redirect.h"

#include <charconv>
#include <cstring>
#include <memory>
#include <vector>

#include <sys/socket.h>

#include <fnmatch.h>
#include <netdb.h>

#include "daemon/vici_command.h"
#include "ike/redirect_config.h"
#include "util/sockaddr.h"

namespace ikeplex::daemon {

namespace {

/// What a redirect request selects; each given selector must match.
struct Selector {
    std::optional<std::string> ike;
    std::optional<std::uint32_t> ike_id;
    std::optional<ike::AddressPrefix> peer_ip;
    std::optional<std::string> peer_id;

    [[nodiscard]] bool matches(const ike::IkeSa& sa) const {
        if (ike && (sa.config() == nullptr || sa.config()->name != *ike)) {
            return false;
        }
        if (ike_id && sa.id() != *ike_id) {
            return false;
        }
        if (peer_ip && !peer_ip->contains(sa.remote().address)) {
            return false;
        }
        return !peer_id ||
               fnmatch(peer_id->c_str(), sa.remote_id().to_string().c_str(), FNM_CASEFOLD) == 0;
    }
};

void redirect(EngineHost& host, const vici::Message& req, const vici::Reply& reply) {
    const auto gateway_text = req.get("gateway");
    if (!gateway_text) {
        reply.respond(result(false, "missing target gateway"));
        return;
    }
    const auto gateway = ike::Gateway::parse(*gateway_text);
    if (!gateway) {
        reply.respond(result(false, "invalid target gateway '" + std::string(*gateway_text) + "'"));
        return;
    }
    Selector sel;
    if (auto v = req.get("ike")) {
        sel.ike = std::string(*v);
    }
    if (auto v = req.get("ike-id")) {
        std::uint32_t n = 0;
        const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
        if (ec != std::errc() || end != v->data() + v->size()) {
            reply.respond(result(false, "invalid ike-id"));
            return;
        }
        sel.ike_id = n;
    }
    if (auto v = req.get("peer-ip")) {
        sel.peer_ip = ike::AddressPrefix::parse(*v);
        if (!sel.peer_ip) {
            reply.respond(result(false,
                                 "invalid peer-ip (an address or subnet; ranges are not "
                                 "supported)"));
            return;
        }
    }
    if (auto v = req.get("peer-id")) {
        sel.peer_id = std::string(*v);
    }
    if (!sel.ike && !sel.ike_id && !sel.peer_ip && !sel.peer_id) {
        reply.respond(result(false, "missing redirect selector (ike, ike-id, peer-ip, peer-id)"));
        return;
    }
    std::vector<std::uint32_t> ids;
    for (const ike::IkeSa* sa : host.manager().sas()) {
        if (sel.matches(*sa)) {
            ids.push_back(sa->id());
        }
    }
    if (ids.empty()) {
        reply.respond(result(false, "no matching IKE_SA to redirect found"));
        return;
    }
    std::string errmsg;
    host.execute([&](ike::Step& s) {
        for (std::uint32_t id : ids) {
            if (auto st = host.manager().redirect(id, *gateway, s); !st && errmsg.empty()) {
                errmsg = "IKE_SA " + std::to_string(id) + ": " + std::string(st.error().detail);
            }
        }
    });
    reply.respond(result(errmsg.empty(), errmsg));
}

}  // namespace

void register_redirect(vici::Server& server, EngineHost& host) {
    server.add_command("redirect", [&host](const vici::Message& req, const vici::Reply& reply) {
        redirect(host, req, reply);
    });
}

std::optional<IpAddress> resolve_host(const std::string& fqdn) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(fqdn.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) {
        return std::nullopt;
    }
    const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(res, &::freeaddrinfo);
    for (const addrinfo* a = res; a != nullptr; a = a->ai_next) {
        if (a->ai_family == AF_INET || a->ai_family == AF_INET6) {
            sockaddr_storage ss{};
            std::memcpy(&ss, a->ai_addr, a->ai_addrlen);
            return from_sockaddr(ss).address;
        }
    }
    return std::nullopt;
}

}  // namespace ikeplex::daemon
