// connections.<name> of swanctl.conf (and VICI load-conn): the IKE SA part, the local and
// remote authentication rounds, and the children.
#include <algorithm>
#include <charconv>

#include "config/swanctl.h"
#include "config/swanctl_values.h"
#include "ike/proposal.h"

namespace ikeplex::config {

// Children live in swanctl_children.cc.
void map_children(const Section& children, ike::PeerConfig& peer, Reporter& r);

namespace {

Handler addresses(Reporter& r, std::vector<IpAddress>& out) {
    return [&r, &out](std::string_view v, const Setting& s) {
        out.clear();
        for (const std::string& item : split_list(v)) {
            if (item == "%any" || item == "%any4" || item == "%any6" || item == "0.0.0.0" ||
                item == "::") {
                out.clear();
                return;  // any address
            }
            auto a = IpAddress::parse(item);
            if (!a) {
                r.error(s.pos, s.name,
                        "'" + item +
                                "': only IP addresses and %any are supported (no names, ranges or "
                                "subnets)");
                return;
            }
            out.push_back(*a);
        }
    };
}

Handler port(Reporter& r, std::uint16_t& out) {
    return [&r, &out](std::string_view v, const Setting& s) {
        const auto n = parse_u64(v);
        if (!n || *n == 0 || *n > 65535) {
            r.error(s.pos, s.name, "not a port number");
            return;
        }
        out = static_cast<std::uint16_t>(*n);
    };
}

/// Reads a certificate named in the configuration: an absolute path, or a file in `folder`
/// (x509, x509ca) below the credential base.
Result<crypto::Certificate> read_cert(const std::string& name, const std::string& folder,
                                      const CredentialDirs& dirs, const FileSystem& fs) {
    const std::string path = name.starts_with("/") || dirs.base.empty()
                                     ? name
                                     : dirs.base + "/" + folder + "/" + name;
    auto text = fs.read_file(path);
    if (!text) {
        return text.error();
    }
    const std::string& content = *text;
    return crypto::Certificate::from_any(
            ByteView(reinterpret_cast<const std::uint8_t*>(content.data()), content.size()));
}

/// `auth`: psk, pubkey (and the signature scheme names), eap[-method].
Handler auth_kind(Reporter& r, ike::AuthConfig& out) {
    return [&r, &out](std::string_view v, const Setting& s) {
        const std::string a(v);
        if (a == "psk") {
            out.kind = ike::AuthKind::kPsk;
        } else if (a == "pubkey" || a.starts_with("rsa") || a.starts_with("ecdsa") ||
                   a.starts_with("ed25519") || a.starts_with("ed448")) {
            out.kind = ike::AuthKind::kPubkey;
            if (a != "pubkey") {
                r.warning(s.pos, s.name,
                          "'" + a + "': any signature scheme the key allows is used (RFC 7427)");
            }
        } else if (a == "eap") {
            out.kind = ike::AuthKind::kEap;  // any method (the server proposes, Nak picks)
        } else if (a == "eap-radius") {
            out.kind = ike::AuthKind::kEap;
            out.eap_radius = true;  // needs RADIUS servers in ikeplexd.conf (check_radius)
        } else if (a.starts_with("eap-")) {
            const auto t = ike::eap_method_type(a.substr(4));
            if (!t) {
                r.error(s.pos, s.name,
                        "'" + a + "': unknown EAP method (eap-md5, eap-mschapv2, eap-tls)");
                return;
            }
            out.kind = ike::AuthKind::kEap;
            out.eap_type = *t;
        } else {
            r.error(s.pos, s.name,
                    "'" + a +
                            "': only psk, pubkey and eap authentication are supported (no "
                            "XAuth)");
        }
    };
}

/// An identity-valued key (eap_id, aaa_id).
Handler optional_identity(Reporter& r, std::optional<ike::Identity>& to) {
    return [&r, &to](std::string_view v, const Setting& s) {
        auto id = ike::Identity::parse(v);
        if (!id) {
            r.error(s.pos, s.name, id.error().detail);
            return;
        }
        to = *id;
    };
}

/// local*/remote* sections. `local`: our side.
void map_auth(const Section& sec, bool local, ike::AuthConfig& out, const CredentialDirs& dirs,
              ike::Credentials& creds, Reporter& r, const FileSystem& fs) {
    Handlers h;
    h["auth"] = auth_kind(r, out);
    h["eap_id"] = optional_identity(r, out.eap_id);
    h["aaa_id"] = optional_identity(r, out.aaa_id);
    h["id"] = [&](std::string_view v, const Setting& s) {
        auto id = ike::Identity::parse(v);
        if (!id) {
            r.error(s.pos, s.name, id.error().detail);
            return;
        }
        out.id = *id;
    };
    const auto certs = [&](const char* folder) {
        return [&, folder](std::string_view v, const Setting& s) {
            for (const std::string& name : split_list(v)) {
                auto cert = read_cert(name, folder, dirs, fs);
                if (!cert) {
                    r.error(s.pos, s.name,
                            "cannot load certificate '" + name + "': " + cert.error().detail);
                    continue;
                }
                if (local) {
                    creds.add_own_cert(std::move(*cert));
                } else {
                    if (auto st = creds.add_ca(std::move(*cert)); !st) {
                        r.error(s.pos, s.name, "cannot trust '" + name + "': " + st.error().detail);
                    }
                }
            }
        };
    };
    if (local) {
        h["certs"] = certs("x509");
    } else {
        h["cacerts"] = certs("x509ca");
        h["certs"] = [&](std::string_view, const Setting& s) {
            r.error(s.pos, s.name, "pinning the peer's certificate is not supported; use cacerts");
        };
    }
    h["round"] = only(r, {"0", "1"},
                      "the round key is not supported; order rounds by the section suffix");
    h["xauth_id"] = unsupported(r, "XAuth is not supported");
    h["pubkeys"] = unsupported(r, "raw public keys are not supported; use certificates");
    h["groups"] = unsupported(r, "group membership constraints are not supported");
    h["cert_policy"] = unsupported(r, "certificate policy constraints are not supported");
    h["ca_id"] = unsupported(r, "ca_id is not supported; use cacerts");
    h["revocation"] = [&](std::string_view v, const Setting& s) {
        if (auto mode = crypto::revocation_mode_from(v)) {
            out.revocation = *mode;
        } else {
            r.error(s.pos, s.name, "expected strict, ifuri or relaxed");
        }
    };
    apply_settings(sec, h, r);
}

/// The IKE SA's timing keys, before strongSwan's defaults are applied.
struct IkeTimes {
    std::optional<ike::Duration> over;
    std::optional<ike::Duration> rand;
    ike::Duration over_time{0};
    ike::Duration rand_time{0};
};

/// Version, addresses, ports, proposals, encapsulation and DPD.
void add_peer_handlers(Handlers& h, Reporter& r, ike::PeerConfig& c) {
    h["version"] = only(r, {"0", "2"}, "only IKEv2 is supported");
    h["local_addrs"] = addresses(r, c.local_addrs);
    h["remote_addrs"] = addresses(r, c.remote_addrs);
    h["local_port"] = port(r, c.local_port);
    h["remote_port"] = port(r, c.remote_port);
    h["proposals"] = proposals(r, c.ike_proposals, wire::ProtocolId::kIke);
    h["encap"] = flag(r, c.force_encap);
    h["dpd_delay"] = duration(r, c.dpd_delay);
    h["dpd_timeout"] = ignored(r, "IKEv1 only; IKEv2 liveness follows the retransmission settings");
    // Virtual IPs (RFC 7296 §2.19): the addresses to ask for (0.0.0.0, ::: any), the pools to
    // lease the peer's from.
    h["vips"] = [&r, &c](std::string_view v, const Setting& s) {
        c.vips.clear();
        for (const std::string& item : split_list(v)) {
            auto a = IpAddress::parse(item == "%any" || item == "%any4" ? "0.0.0.0"
                                      : item == "%any6"                 ? "::"
                                                                        : item);
            if (!a) {
                r.error(s.pos, s.name, "'" + item + "': expected an IP address, 0.0.0.0 or ::");
                return;
            }
            c.vips.push_back(*a);
        }
    };
    h["pools"] = [&c](std::string_view v, const Setting& /*s*/) { c.pools = split_list(v); };
}

/// rekey_time, reauth_time, over_time and rand_time.
void add_time_handlers(Handlers& h, Reporter& r, ike::PeerConfig& c, IkeTimes& t) {
    h["rekey_time"] = duration(r, c.rekey_time);
    h["reauth_time"] = duration(r, c.reauth_time);
    h["over_time"] = [&r, &t](std::string_view v, const Setting& s) {
        duration(r, t.over_time)(v, s);
        t.over = t.over_time;
    };
    h["rand_time"] = [&r, &t](std::string_view v, const Setting& s) {
        duration(r, t.rand_time)(v, s);
        t.rand = t.rand_time;
    };
}

/// strongSwan: over_time defaults to 10 % of the longer of rekey_time and reauth_time,
/// rand_time to over_time.
void apply_time_defaults(const IkeTimes& t, ike::PeerConfig& c) {
    c.over_time = t.over.value_or(
            ike::Duration(std::max(c.rekey_time.count(), c.reauth_time.count()) / 10));
    c.rand_time = t.rand.value_or(c.over_time);
}

/// Keys ikeplex implements partly: retries, fragmentation, MOBIKE, uniqueness, certificate
/// requests and sending.
void add_option_handlers(Handlers& h, Reporter& r, ike::PeerConfig& c) {
    h["keyingtries"] = [&r, &c](std::string_view v, const Setting& s) {
        std::uint32_t n = 0;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc() || end != v.data() + v.size() || v.empty()) {
            r.error(s.pos, s.name, "expected a number of attempts (0: until one succeeds)");
            return;
        }
        c.keyingtries = n;
    };
    h["fragmentation"] = [&r, &c](std::string_view v, const Setting& s) {
        if (v == "yes" || v == "accept" || v == "force") {
            c.fragmentation = true;
        } else if (v == "no") {
            c.fragmentation = false;
        } else {
            r.error(s.pos, s.name, "expected yes, accept, force or no");
        }
    };
    h["mobike"] = flag(r, c.mobike);               // RFC 4555; strongSwan's default yes (set below)
    h["ppk_id"] = optional_identity(r, c.ppk_id);  // RFC 8784
    h["ppk_required"] = flag(r, c.ppk_required);
    h["unique"] = [&r, &c](std::string_view v, const Setting& s) {
        static constexpr std::pair<std::string_view, ike::UniquePolicy> kPolicies[] = {
                {"no", ike::UniquePolicy::kNo},
                {"never", ike::UniquePolicy::kIgnoreInitialContact},
                {"keep", ike::UniquePolicy::kKeep},
                {"replace", ike::UniquePolicy::kReplace}};
        for (const auto& [name, policy] : kPolicies) {
            if (v == name) {
                c.unique = policy;
                return;
            }
        }
        r.error(s.pos, s.name, "expected no, never, keep or replace");
    };
    h["send_certreq"] = [&r](std::string_view v, const Setting& s) {
        if (!parse_bool(v).value_or(true)) {
            r.warning(s.pos, s.name,
                      "certificate requests are always sent when the peer authenticates with a "
                      "certificate");
        }
    };
    h["send_cert"] = only(r, {"ifasked", "always"}, "send_cert = never is not supported");
}

/// strongSwan keys ikeplex ignores (a warning) or does not implement (an error).
void add_unsupported_handlers(Handlers& h, Reporter& r) {
    h["childless"] = only(r, {"allow", "never"}, "childless IKE SAs (RFC 6023) are not supported");
    h["aggressive"] = only(r, {"no"}, "IKEv1 aggressive mode is not supported");
    h["pull"] = ignored(r, "IKEv1 only");
    h["dscp"] = ignored(r, "IKE packets are sent with the default DSCP");
    h["ocsp"] = ignored(r, "OCSP is not supported");
    for (const char* k : {"mediation", "mediated_by", "mediation_peer"}) {
        h[k] = unsupported(r, "mediation is not supported");
    }
    for (const char* k : {"if_id_in", "if_id_out"}) {
        h[k] = unsupported(r, "XFRM interface ids are not supported");
    }
}

/// The round of a `local*`/`remote*` section by its name's suffix: `local` 0, `local-2` 2.
int round_of(std::string_view name) {
    const std::size_t dash = name.find('-');
    if (dash == std::string_view::npos) {
        return 0;
    }
    int n = 0;
    for (const char ch : name.substr(dash + 1)) {
        if (ch < '0' || ch > '9' || n > 1000) {
            return 0;
        }
        n = n * 10 + (ch - '0');
    }
    return n;
}

/// One side's authentication rounds (RFC 4739), ordered by their suffix as strongSwan sorts
/// them: the first goes to `first`, a second round (EAP, certificate or PSK) after a
/// certificate or PSK round to `more`. Returns the second round's section (null: none).
const Section* map_rounds(std::vector<const Section*> secs, bool local, ike::AuthConfig& first,
                          std::vector<ike::AuthConfig>& more, const CredentialDirs& dirs,
                          ike::Credentials& credentials, Findings& findings, Reporter& r,
                          const FileSystem& fs) {
    std::stable_sort(secs.begin(), secs.end(), [](const Section* a, const Section* b) {
        return round_of(a->name) < round_of(b->name);
    });
    const Section* second = nullptr;
    for (std::size_t i = 0; i < secs.size(); ++i) {
        const Section& sub = *secs[i];
        Reporter sr(findings, key_path(r.prefix(), sub.name));
        if (i == 0) {
            map_auth(sub, local, first, dirs, credentials, sr, fs);
            continue;
        }
        ike::AuthConfig round;
        map_auth(sub, local, round, dirs, credentials, sr, fs);
        if (i > 1 || first.kind == ike::AuthKind::kEap) {
            r.error(sub.pos, sub.name,
                    local ? "at most two local authentication rounds are supported, the first a "
                            "certificate or key round"
                          : "at most two remote authentication rounds are supported, the first "
                            "a certificate or key round");
            continue;
        }
        second = &sub;
        more.push_back(std::move(round));
    }
    return second;
}

/// The sections of a connection: local and remote authentication rounds (RFC 4739),
/// children. The remote id defaults to %any.
void map_sections(const Section& conn, ike::PeerConfig& c, const CredentialDirs& dirs,
                  ike::Credentials& credentials, Findings& findings, Reporter& r,
                  const FileSystem& fs) {
    std::vector<const Section*> locals;
    std::vector<const Section*> remotes;
    for (const Section& sub : conn.sections) {
        if (sub.name.starts_with("local")) {
            locals.push_back(&sub);
        } else if (sub.name.starts_with("remote")) {
            remotes.push_back(&sub);
        } else if (sub.name == "children") {
            map_children(sub, c, r);
        } else {
            r.error(sub.pos, sub.name, "unknown section");
        }
    }
    const bool have_remote = !remotes.empty();
    const Section* local2 = map_rounds(std::move(locals), true, c.local, c.local_more, dirs,
                                       credentials, findings, r, fs);
    if (local2 != nullptr && c.remote_addrs.empty()) {
        // RFC 4739 §2.5 lets a responder authenticate twice; ikeplex's responder does not.
        r.warning(local2->pos, local2->name,
                  "a second local round is used only when initiating; without remote_addrs the "
                  "connection only responds, with its first local round (responder rounds of "
                  "RFC 4739 are not supported)");
    }
    map_rounds(std::move(remotes), false, c.remote, c.remote_more, dirs, credentials, findings, r,
               fs);
    if (!have_remote) {
        c.remote.id.any = true;  // strongSwan: remote id defaults to %any
    }
    if (c.remote.id.data.empty() && !c.remote.id.any) {
        c.remote.id.any = true;
    }
}

}  // namespace

Result<ike::PeerConfig> map_connection(const Section& conn, const CredentialDirs& dirs,
                                       ike::Credentials& credentials, Findings& findings,
                                       const FileSystem& fs) {
    ike::PeerConfig c;
    c.mobike = true;  // strongSwan's default
    c.name = conn.name;
    c.ike_proposals = *ike::parse_proposals(default_ike_proposals(), wire::ProtocolId::kIke);
    Reporter r(findings, "connections." + conn.name);
    const std::size_t errors_before = findings.errors.size();
    IkeTimes times;
    Handlers h;
    add_peer_handlers(h, r, c);
    add_time_handlers(h, r, c, times);
    add_option_handlers(h, r, c);
    add_unsupported_handlers(h, r);
    apply_settings(conn, h, r);
    apply_time_defaults(times, c);
    map_sections(conn, c, dirs, credentials, findings, r, fs);
    if (const Setting* ppk = conn.find_setting(c.ppk_id ? "ppk_id" : "ppk_required");
        ppk != nullptr && (c.ppk_id || c.ppk_required) && c.local.kind == ike::AuthKind::kEap) {
        r.error(ppk->pos, ppk->name,
                "a PPK (RFC 8784) with EAP as our first authentication round is not supported");
    }
    if (findings.errors.size() != errors_before) {
        return make_error(Errc::kConfig, "connection has errors");
    }
    return c;
}

}  // namespace ikeplex::config
