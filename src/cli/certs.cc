// `ikeplex list-certs` and `list-authorities`: the daemon's list-cert events carry each
// credential's DER (as charon's do), which is decoded here, so the listing works against any
// VICI daemon.
#include <ctime>
#include <map>

#include <fmt/format.h>

#include "cli/commands.h"
#include "crypto/crl_info.h"
#include "crypto/x509.h"
#include "util/hex.h"

namespace ikeplex::cli {
namespace {

std::string str(const vici::Message& m, std::string_view key) {
    return std::string(m.get(key).value_or(""));
}

std::string utc(std::int64_t t) {
    const auto tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

/// The heading of a group of listed credentials (type and flag), as swanctl groups them.
std::string heading(const std::string& type, const std::string& flag) {
    if (type == "X509") {
        static const std::map<std::string, std::string> by_flag{
                {"NONE", "X.509 end entity certificates"},
                {"CA", "X.509 CA certificates"},
                {"AA", "X.509 AA certificates"},
                {"OCSP", "X.509 OCSP signer certificates"}};
        const auto it = by_flag.find(flag);
        return it != by_flag.end() ? it->second : "X.509 certificates (" + flag + ")";
    }
    if (type == "X509_CRL") {
        return "X.509 CRLs";
    }
    return type + " credentials";
}

/// One X.509 certificate: subject, issuer, validity, serial, names, key.
void print_x509(const vici::Message& ev, std::int64_t now, std::ostream& out) {
    const vici::KeyValue* data = ev.find_value("data");
    auto cert =
            data != nullptr
                    ? crypto::Certificate::from_der(data->value)
                    : Result<crypto::Certificate>(make_error(Errc::kInvalidArgument, "no data"));
    if (!cert) {
        out << "  (a certificate that does not decode: " << cert.error().detail << ")\n\n";
        return;
    }
    const crypto::CertificateInfo i = cert->info();
    const char* state = now < i.not_before  ? " (not valid yet)"
                        : now > i.not_after ? " (expired)"
                                            : "";
    out << "  subject:  " << i.subject << '\n';
    out << "  issuer:   " << i.issuer << '\n';
    out << "  validity: " << utc(i.not_before) << " .. " << utc(i.not_after) << state << '\n';
    out << "  serial:   " << i.serial << '\n';
    if (!i.alt_names.empty()) {
        std::string names;
        for (const auto& n : i.alt_names) {
            names += (names.empty() ? "" : ", ") + n;
        }
        out << "  altNames: " << names << '\n';
    }
    out << "  key:      " << i.key
        << (ev.get("has_privkey") == std::optional<std::string_view>("yes") ? ", has private key"
                                                                            : "")
        << "\n\n";
}

/// One CRL: issuer, update times, cRLNumber, revoked certificates (as swanctl lists it).
void print_crl(const vici::Message& ev, std::int64_t now, std::ostream& out) {
    const vici::KeyValue* data = ev.find_value("data");
    auto crl = data != nullptr ? crypto::Crl::from_any(data->value)
                               : Result<crypto::Crl>(make_error(Errc::kInvalidArgument, "no data"));
    if (!crl) {
        out << "  (a CRL that does not decode: " << crl.error().detail << ")\n\n";
        return;
    }
    const crypto::CrlInfo i = crypto::crl_info(*crl);
    out << "  issuer:   " << i.issuer << '\n';
    out << "  update:   this " << utc(i.this_update) << '\n';
    if (i.next_update != 0) {
        out << "            next " << utc(i.next_update)
            << (now >= i.next_update ? " (expired)" : "") << '\n';
    }
    if (!i.number.empty()) {
        out << "  serial:   " << i.number << '\n';
    }
    out << "  revoked:  " << i.revoked << " certificate" << (i.revoked == 1 ? "" : "s") << "\n\n";
}

/// A credential as JSON: the event's keys, and for a certificate what it decodes to.
std::string cert_json(const vici::Message& ev) {
    vici::Message m;
    for (const char* k : {"type", "flag", "has_privkey"}) {
        if (ev.get(k)) {
            m.add(k, str(ev, k));
        }
    }
    if (const vici::KeyValue* data = ev.find_value("data")) {
        m.add("data", to_hex(data->value));
        if (auto cert = crypto::Certificate::from_der(data->value);
            cert && ev.get("type") == std::optional<std::string_view>("X509")) {
            const crypto::CertificateInfo i = cert->info();
            m.add("subject", i.subject);
            m.add("issuer", i.issuer);
            m.add("serial", i.serial);
            m.add("not-before", utc(i.not_before));
            m.add("not-after", utc(i.not_after));
            m.add("key", i.key);
            vici::List& names = m.add_list("alt-names");
            for (const auto& n : i.alt_names) {
                names.add(n);
            }
        }
        if (auto crl = crypto::Crl::from_any(data->value);
            crl && ev.get("type") == std::optional<std::string_view>("X509_CRL")) {
            const crypto::CrlInfo i = crypto::crl_info(*crl);
            m.add("issuer", i.issuer);
            m.add("this-update", utc(i.this_update));
            if (i.next_update != 0) {
                m.add("next-update", utc(i.next_update));
            }
            if (!i.number.empty()) {
                m.add("crl-number", i.number);
            }
            m.add("revoked", std::to_string(i.revoked));
        }
    }
    return to_json(m);
}

}  // namespace

int list_certs(vici::Client& c, const CertQuery& q, bool json, std::ostream& out) {
    vici::Message req;
    for (const auto& [key, value] : {std::pair{"type", &q.type}, std::pair{"flag", &q.flag},
                                     std::pair{"subject", &q.subject}}) {
        if (!value->empty()) {
            req.add(key, *value);
        }
    }
    std::vector<vici::Message> events;
    auto r = c.request("list-certs", req, [&](const std::string& name, const vici::Message& m) {
        if (name == "list-cert") {
            events.push_back(m);
        }
    });
    if (!r) {
        out << "error: " << r.error().to_string() << '\n';
        return 1;
    }
    if (r->get("success") == std::optional<std::string_view>("no")) {
        out << "list-certs failed: " << str(*r, "errmsg") << '\n';
        return 1;
    }
    if (json) {
        out << "[";
        for (std::size_t i = 0; i < events.size(); ++i) {
            out << (i == 0 ? "" : ",") << cert_json(events[i]);
        }
        out << "]\n";
        return 0;
    }
    if (events.empty()) {
        out << "no certificates\n";
        return 0;
    }
    // Grouped by type and flag, in the order the groups first appear.
    std::vector<std::string> order;
    std::map<std::string, std::vector<const vici::Message*>> groups;
    for (const vici::Message& ev : events) {
        const std::string h = heading(str(ev, "type"), str(ev, "flag"));
        if (!groups.contains(h)) {
            order.push_back(h);
        }
        groups[h].push_back(&ev);
    }
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    for (const std::string& h : order) {
        out << h << ":\n\n";
        for (const vici::Message* ev : groups[h]) {
            if (str(*ev, "type") == "X509") {
                print_x509(*ev, now, out);
            } else if (str(*ev, "type") == "X509_CRL") {
                print_crl(*ev, now, out);
            } else {
                const vici::KeyValue* data = ev->find_value("data");
                out << "  (" << str(*ev, "type") << ", "
                    << (data != nullptr ? data->value.size() : 0) << " bytes)\n\n";
            }
        }
    }
    return 0;
}

int list_authorities(vici::Client& c, const std::string& name, bool json, std::ostream& out) {
    vici::Message req;
    if (!name.empty()) {
        req.add("name", name);
    }
    std::vector<vici::Message> events;
    auto r = c.request("list-authorities", req, [&](const std::string& ev, const vici::Message& m) {
        if (ev == "list-authority") {
            events.push_back(m);
        }
    });
    if (!r) {
        out << "error: " << r.error().to_string() << '\n';
        return 1;
    }
    if (json) {
        out << "[";
        for (std::size_t i = 0; i < events.size(); ++i) {
            out << (i == 0 ? "" : ",") << to_json(events[i]);
        }
        out << "]\n";
        return 0;
    }
    if (events.empty()) {
        out << "no authorities\n";
        return 0;
    }
    for (const vici::Message& ev : events) {
        for (const vici::Entry& e : ev) {
            const auto* a = std::get_if<vici::Section>(&e);
            if (a == nullptr) {
                continue;
            }
            out << a->name << ":\n  cacert: " << str(a->body, "cacert") << '\n';
            if (const auto base = a->body.get("cert_uri_base")) {
                out << "  cert_uri_base: " << *base << '\n';
            }
            for (const char* list : {"crl_uris", "ocsp_uris"}) {
                if (const vici::List* l = a->body.find_list(list);
                    l != nullptr && !l->items.empty()) {
                    std::string all;
                    for (const auto& t : l->texts()) {
                        all += (all.empty() ? "" : " ") + std::string(t);
                    }
                    out << "  " << list << ": " << all << '\n';
                }
            }
        }
    }
    return 0;
}

}  // namespace ikeplex::cli
