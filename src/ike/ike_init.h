// The IKE_SA_INIT responder: the only exchange answered before an IKE SA exists. The manager
// handles COOKIEs and half-open limits first (RFC 7296 §2.6, RFC 8019).
#pragma once

#include <memory>
#include <optional>

#include "ike/ike_sa.h"

namespace ikeplex::ike {

struct InitRequest {
    const wire::Message& message;
    ByteView raw;
    Endpoint local;
    Endpoint remote;
    std::uint32_t id;  ///< unique id for the new IKE SA
    IkeSpi spi_r;      ///< the responder SPI to use (unique, chosen by the manager)
};

struct InitAnswer {
    std::unique_ptr<IkeSa> sa;   ///< the new half-open IKE SA, keys derived; null on refusal
    std::optional<Bytes> reply;  ///< the response to send (also for refusals)
};

InitAnswer respond_ike_sa_init(Services& services, SaRegistry& registry, const InitRequest& req,
                               Step& step);

}  // namespace ikeplex::ike
