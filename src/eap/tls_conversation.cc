// The EAP-TLS conversation core both halves share (see tls_conversation.h).
#include "eap/tls_conversation.h"

#include <string>
#include <utility>

namespace ikeplex::eap::tls {

Conversation::Conversation(TlsOptions options)
    : options_(options),
      reassembler_(options.max_message_bytes),
      fragmenter_(options.fragment_size) {}

Status Conversation::start(Session::Role role, const Credentials& creds, LeafCheck check) {
    if (options_.fragment_size < kMinFragmentSize || options_.fragment_size > 0xffff) {
        return make_error(Errc::kInvalidArgument, "EAP-TLS: fragment size out of range");
    }
    session_ = IKEPLEX_TRY(Session::create(role, creds, std::move(check)));
    return ok();
}

Result<Fragment> Conversation::accept(ByteView type_data) {
    if (options_.max_packets != 0 && ++packets_ > options_.max_packets) {
        return make_error(Errc::kTooLarge, "EAP-TLS: too many packets");
    }
    return parse(type_data);
}

Result<Turn> Conversation::take(const Fragment& f, bool data_expected) {
    if (is_ack(f)) {
        if (fragmenter_.pending()) {
            return Turn{Turn::Kind::kSend, fragmenter_.next(), {}};
        }
        return Turn{Turn::Kind::kAck, {}, {}};
    }
    if (fragmenter_.pending()) {
        return make_error(Errc::kState, "EAP-TLS: data while our fragments are unacknowledged");
    }
    if (!data_expected) {
        return make_error(Errc::kState, "EAP-TLS: TLS data after the handshake");
    }
    auto whole = IKEPLEX_TRY(reassembler_.add(f));
    if (!whole) {
        return Turn{Turn::Kind::kSend, ack_type_data(), {}};
    }
    return Turn{Turn::Kind::kMessage, {}, std::move(*whole)};
}

Bytes Conversation::send(Bytes records) {
    if (records.empty()) {
        return ack_type_data();
    }
    fragmenter_.load(std::move(records));
    return fragmenter_.next();
}

Status Conversation::keep_msk() {
    msk_ = IKEPLEX_TRY(session_->export_msk());
    return ok();
}

std::string Conversation::session_failure() const {
    return "EAP-TLS: " + session_->failure_reason();
}

}  // namespace ikeplex::eap::tls
