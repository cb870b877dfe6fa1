#include "ike/services.h"

#include "util/hex.h"
#include "util/log.h"
#include "wire/describe.h"
#include "wire/names.h"

namespace ikeplex::ike {

Spi RandomSpiAllocator::allocate(const SpiRequest& /*request*/) {
    for (;;) {
        const std::uint32_t v = random_.u32();
        // RFC 4303 §2.1: 1..255 are reserved, 0 is never a valid SPI.
        if (v > 255 && used_.insert(v, true)) {
            return Spi(v);
        }
    }
}

void RandomSpiAllocator::release(Spi spi) {
    used_.erase(spi.value());
}

void trace_message(const Services& services, Step& step, bool sent, std::uint32_t ike_id,
                   const wire::Header& header, std::span<const wire::Payload> payloads,
                   std::string_view label) {
    if (log::would_log_detail(log::kControlMore, log::Subsystem::kEnc)) {
        const std::string_view sep = label.empty() ? "" : " ";
        for (std::size_t i = 0; i < payloads.size(); ++i) {
            log::more(log::Subsystem::kEnc, "{}{}{} {} payload {}/{}: {}", label, sep,
                      sent ? "generated" : "parsed", wire::to_string(header.exchange), i + 1,
                      payloads.size(), wire::describe_detail(payloads[i]));
        }
    }
    if (services.trace_messages) {
        step.out.messages.push_back(
                MessageTrace{sent, ike_id, header,
                             std::vector<wire::Payload>(payloads.begin(), payloads.end())});
    }
}

void log_datagram(bool sent, ByteView datagram, const Endpoint& local, const Endpoint& remote) {
    if (log::would_log_detail(log::kRaw, log::Subsystem::kNet)) {
        const Endpoint& from = sent ? local : remote;
        const Endpoint& to = sent ? remote : local;
        log::raw(log::Subsystem::kNet, "{} {} bytes from {} to {}\n{}",
                 sent ? "sending" : "received", datagram.size(), from, to, hex_dump(datagram));
    }
}

}  // namespace ikeplex::ike
