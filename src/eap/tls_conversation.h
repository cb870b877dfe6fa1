// What the EAP-TLS server and peer halves share (RFC 5216 §2.1, §3.1, §3.2): the TLS session,
// the packet budget, parsing each received Type-Data, acknowledgements, the reassembly of the
// other side's messages and the fragmentation of ours, and the MSK once the handshake is done.
// The halves keep what differs: who sends Start, what an acknowledgement with nothing pending
// means, the TLS 1.3 commitment message (RFC 9190 §2.5) and when the method succeeds.
// Internal to the eap layer.
#pragma once

#include <memory>

#include "eap/eap.h"
#include "eap/tls.h"
#include "eap/tls_framing.h"
#include "eap/tls_session.h"

namespace ikeplex::eap::tls {

/// The TLS credentials a method's context carries (ServerContext, PeerContext).
template <class Context>
Credentials credentials_of(const Context& ctx) {
    return Credentials{ctx.own_cert, ctx.own_key, ctx.trusted, ctx.unix_time, ctx.tls_versions};
}

/// What a received fragment (neither Start nor refused) leaves for the method half.
struct Turn {
    enum class Kind : std::uint8_t {
        kSend,     ///< send `type_data`: the next fragment of ours, or an ack of the other side's
        kAck,      ///< a bare acknowledgement, none of our fragments pending
        kMessage,  ///< `message`: a whole TLS message from the other side
    };
    Kind kind{Kind::kSend};
    Bytes type_data;
    Bytes message;
};

class Conversation {
public:
    explicit Conversation(TlsOptions options);

    /// Checks the options (kInvalidArgument: fragment size out of range) and creates the
    /// session.
    Status start(Session::Role role, const Credentials& creds, LeafCheck check);

    /// Counts one received Type-Data against the packet budget and parses it; errors carry a
    /// static reason.
    Result<Fragment> accept(ByteView type_data);
    /// A parsed fragment without the S flag: an acknowledgement sends our next fragment (or is
    /// kAck); data while ours are pending, or while `data_expected` is false ("TLS data after
    /// the handshake"), is an error; data is reassembled (kSend of an ack until it is whole).
    Result<Turn> take(const Fragment& f, bool data_expected);
    /// The Type-Data that sends `records`: the first fragment of them, or an acknowledgement
    /// when there are none.
    Bytes send(Bytes records);
    [[nodiscard]] bool sending() const noexcept { return fragmenter_.pending(); }

    /// After the handshake: exports the MSK (RFC 5216 §2.3, RFC 9190 §2.3) into msk().
    Status keep_msk();
    [[nodiscard]] const Msk& msk() const noexcept { return msk_; }

    [[nodiscard]] Session& session() noexcept { return *session_; }
    [[nodiscard]] const Session& session() const noexcept { return *session_; }
    /// "EAP-TLS: " and the session's failure reason, for the log.
    [[nodiscard]] std::string session_failure() const;

private:
    TlsOptions options_;
    std::unique_ptr<Session> session_;
    Reassembler reassembler_;
    Fragmenter fragmenter_;
    unsigned packets_{0};
    Msk msk_;
};

}  // namespace ikeplex::eap::tls
