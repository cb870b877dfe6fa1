// The hand-off rings between workers (src/esp/handoff.h): order per producer, wrap-around of the
// byte ring, a full ring refusing, the eventfd, and two producer threads against one consumer.
#include "esp/handoff.h"

#include <array>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <poll.h>

namespace ikeplex::esp {
namespace {

Bytes datagram(std::uint32_t n, std::size_t size) {
    Bytes b(size);
    for (std::size_t i = 0; i < size; ++i) {
        b[i] = static_cast<std::uint8_t>(n * 7 + i);
    }
    b[0] = static_cast<std::uint8_t>(n >> 24U);
    b[1] = static_cast<std::uint8_t>(n >> 16U);
    b[2] = static_cast<std::uint8_t>(n >> 8U);
    b[3] = static_cast<std::uint8_t>(n);
    return b;
}

std::uint32_t number(const PacketBuf& p) {
    return (std::uint32_t{p.data()[0]} << 24U) | (std::uint32_t{p.data()[1]} << 16U) |
           (std::uint32_t{p.data()[2]} << 8U) | p.data()[3];
}

bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

TEST(Handoff, KeepsOrderAcrossManyWrapsAndWakes) {
    auto h = Handoff::create(2).value();
    std::vector<PacketBuf> bufs(64);
    std::uint32_t next_in = 0;
    std::uint32_t next_out = 0;
    EXPECT_FALSE(readable(h->fd(1)));
    // Odd sizes, so records end at every offset of the ring; ~40 times around it.
    for (int round = 0; round < 400; ++round) {
        for (int i = 0; i < 23; ++i, ++next_in) {
            const Bytes d = datagram(next_in, 1000 + (next_in % 517));
            ASSERT_TRUE(h->push(0, 1, d));
        }
        h->wake(1);
        ASSERT_TRUE(readable(h->fd(1)));
        h->clear(1);
        EXPECT_FALSE(readable(h->fd(1)));
        std::size_t n = 0;
        while ((n = h->pop(1, bufs)) > 0) {
            for (std::size_t i = 0; i < n; ++i, ++next_out) {
                const Bytes want = datagram(next_out, 1000 + (next_out % 517));
                ASSERT_EQ(bufs[i].size(), want.size());
                ASSERT_EQ(0, std::memcmp(bufs[i].data(), want.data(), want.size()));
            }
        }
    }
    EXPECT_EQ(next_in, next_out);
    EXPECT_EQ(h->pop(0, bufs), 0U);  // nothing went the other way
}

TEST(Handoff, AFullRingRefusesAndTakesMoreOnceDrained) {
    auto h = Handoff::create(3).value();
    const Bytes d = datagram(1, 1400);
    std::size_t pushed = 0;
    while (h->push(2, 0, d)) {
        ++pushed;
        ASSERT_LT(pushed, 1000U);
    }
    EXPECT_EQ(pushed, Handoff::kRingBytes / 1408);  // 4-byte length + 1400, 8-aligned
    std::vector<PacketBuf> bufs(pushed + 5);
    EXPECT_EQ(h->pop(0, bufs), pushed);
    EXPECT_TRUE(h->push(2, 0, d));
    // Refused outright: to itself, empty, too large, unknown worker.
    EXPECT_FALSE(h->push(1, 1, d));
    EXPECT_FALSE(h->push(1, 0, ByteView{}));
    EXPECT_FALSE(h->push(1, 0, Bytes(PacketBuf::kCapacity)));
    EXPECT_FALSE(h->push(1, 3, d));
}

TEST(Handoff, TwoProducerThreadsOneConsumerLoseNothing) {
    auto h = Handoff::create(3).value();
    constexpr std::uint32_t kEach = 20000;
    std::atomic<int> done{0};
    std::atomic<std::uint64_t> refused{0};
    auto produce = [&](unsigned from) {
        for (std::uint32_t i = 0; i < kEach;) {
            if (h->push(from, 2, datagram((from << 24U) | i, 64 + i % 300))) {
                ++i;
                h->wake(2);
            } else {
                refused.fetch_add(1, std::memory_order_relaxed);
                std::this_thread::yield();
            }
        }
        done.fetch_add(1);
    };
    std::thread p0(produce, 0);
    std::thread p1(produce, 1);
    std::array<std::uint32_t, 2> next{};
    std::vector<PacketBuf> bufs(64);
    bool ok = true;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    // Until both producers are done and their rings are empty (bounded in time: a lost
    // datagram must fail the test, not hang it).
    for (;;) {
        const bool finished = done.load() == 2;
        h->clear(2);
        const std::size_t n = h->pop(2, bufs);
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint32_t v = number(bufs[i]);
            const unsigned from = v >> 24U;
            const std::uint32_t seq = v & 0xFFFFFFU;
            ok = ok && from < 2 && seq == next[from] && bufs[i].size() == 64 + seq % 300;
            if (from < 2) {
                ++next[from];
            }
        }
        if (n == 0 && (finished || std::chrono::steady_clock::now() > deadline)) {
            break;
        }
        if (n == 0) {
            std::this_thread::yield();
        }
    }
    p0.join();
    p1.join();
    EXPECT_TRUE(ok) << "a datagram out of order, from an unknown producer, or of the wrong size";
    EXPECT_EQ(next[0], kEach);
    EXPECT_EQ(next[1], kEach);
}

}  // namespace
}  // namespace ikeplex::esp
