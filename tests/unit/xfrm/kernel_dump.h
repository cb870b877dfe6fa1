// dump_all: every entry of one kernel dump (GETPOLICY, GETSA), each of which must be a message
// of the expected type that parses (gtest failures otherwise). For the real-kernel tests.
#pragma once

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "netlink/socket.h"
#include "util/hex.h"

namespace ikeplex::kernel::xfrm::testing {

template <class T, class Parse>
std::vector<T> dump_all(netlink::Socket& nl, netlink::Request req, std::uint16_t type,
                        Parse parse) {
    std::vector<T> out;
    auto r = nl.dump(req);
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    if (!r) {
        return out;
    }
    EXPECT_EQ(r->error, 0) << r->message;
    for (const auto& datagram : r->messages) {
        auto msgs = netlink::split_messages(datagram);
        EXPECT_TRUE(msgs.has_value()) << "a dump message does not split";
        if (!msgs) {
            continue;
        }
        for (const netlink::Message& m : *msgs) {
            EXPECT_EQ(m.type, type);
            auto entry = parse(m.payload);
            EXPECT_TRUE(entry.has_value()) << entry.error().to_string() << " " << to_hex(m.payload);
            if (entry) {
                out.push_back(*entry);
            }
        }
    }
    return out;
}

}  // namespace ikeplex::kernel::xfrm::testing
