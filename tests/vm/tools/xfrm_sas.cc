// xfrm_sas: the kernel's IPsec SAs as JSON lines, through ikeplex's own NETLINK_XFRM codec
// (iproute2 6.1 does not show XFRMA_SA_PCPU or XFRMA_SA_DIR). For the VM scenarios
// (tests/vm/README.md), run inside a namespace:
//   xfrm_sas                    every SA (GETSA dump)
//   xfrm_sas DST SPI            one SA (GETSA by destination and SPI, e.g. 10.99.0.2 0xc1234567)
// One line per SA: {"spi":"0x..","src":..,"dst":..,"dir":"in"|"out"|null,"pcpu":N|null,
// "mode":"tunnel"|"transport","reqid":N,"packets":N,"bytes":N,"encap":[sport,dport]|null}.
// Exit status: 0, 1 on a netlink error (printed), 2 on bad arguments.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <linux/netlink.h>

#include "kernel/xfrm/codec/codec.h"
#include "kernel/xfrm/codec/uapi.h"
#include "netlink/socket.h"

namespace x = ikeplex::kernel::xfrm;

namespace {

void print(const x::SaInfo& s) {
    std::string dir = "null";
    if (s.direction) {
        dir = *s.direction == x::kXfrmSaDirIn ? "\"in\"" : "\"out\"";
    }
    std::string encap = "null";
    if (s.encap) {
        encap = "[" + std::to_string(s.encap->sport) + "," + std::to_string(s.encap->dport) + "]";
    }
    std::printf(
            "{\"spi\":\"0x%08x\",\"src\":\"%s\",\"dst\":\"%s\",\"dir\":%s,\"pcpu\":%s,\"mode\":\"%"
            "s\","
            "\"reqid\":%u,\"packets\":%llu,\"bytes\":%llu,\"encap\":%s}\n",
            s.spi.value(), s.src.to_string().c_str(), s.dst.to_string().c_str(), dir.c_str(),
            s.pcpu ? std::to_string(*s.pcpu).c_str() : "null",
            s.mode == x::XfrmMode::kTunnel ? "tunnel" : "transport", s.reqid,
            static_cast<unsigned long long>(s.counters.packets),
            static_cast<unsigned long long>(s.counters.bytes), encap.c_str());
}

int fail(const std::string& what) {
    std::fprintf(stderr, "xfrm_sas: %s\n", what.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 1 && argc != 3) {
        std::fprintf(stderr, "usage: xfrm_sas [DST SPI]\n");
        return 2;
    }
    auto nl = ikeplex::netlink::Socket::open(NETLINK_XFRM);
    if (!nl) {
        return fail(nl.error().to_string());
    }
    // One SA (GETSA by destination and SPI) or every SA (GETSA dump); the answer is read alike.
    const bool one = argc == 3;
    ikeplex::netlink::Request req = x::build_dump_sa();
    if (one) {
        auto dst = ikeplex::IpAddress::parse(argv[1]);
        char* end = nullptr;
        const unsigned long spi = std::strtoul(argv[2], &end, 0);
        if (!dst || end == argv[2] || *end != '\0' || spi > 0xffffffffUL) {
            std::fprintf(stderr, "xfrm_sas: bad DST or SPI\n");
            return 2;
        }
        req = x::build_get_sa(*dst, ikeplex::Spi(static_cast<std::uint32_t>(spi)));
    }
    auto r = one ? nl->request(req) : nl->dump(req);
    if (!r) {
        return fail(r.error().to_string());
    }
    if (r->error != 0) {
        return fail("GETSA: error " + std::to_string(r->error) + " " + r->message);
    }
    for (const auto& datagram : r->messages) {
        auto msgs = ikeplex::netlink::split_messages(datagram);
        if (!msgs) {
            return fail("a reply message does not split");
        }
        for (const auto& m : *msgs) {
            auto s = x::parse_sa(m.payload);
            if (!s) {
                return fail("unparsable SA: " + s.error().to_string());
            }
            print(*s);
        }
    }
    return 0;
}
