// EAP-MSCHAPv2 framing (draft-kamath-pppext-eap-mschapv2-02 §2, RFC 2759 §3-6): the Type-Data
// of an EAP packet of type 26. Long form: OpCode, MS-CHAPv2-ID, MS-Length (= EAP Length - 5,
// i.e. the Type-Data's size), data; the peer's Success and Failure acknowledgements are the
// OpCode alone. Formats follow what strongSwan 5.9.8's eap-mschapv2 sends and accepts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex::eap::mschapv2 {

enum class OpCode : std::uint8_t {
    kChallenge = 1,
    kResponse = 2,
    kSuccess = 3,
    kFailure = 4,
    kChangePassword = 7,
};

inline constexpr std::uint8_t kResponseValueSize = 49;  ///< Peer-Challenge..Flags
inline constexpr std::size_t kMaxNameSize = 255;        ///< strongSwan reads at most this much

/// A long-form message; `data` views the decoded Type-Data.
struct Message {
    OpCode op{OpCode::kChallenge};
    std::uint8_t ms_id{0};
    ByteView data;
};

/// The long form. MS-Length is set from the data.
Bytes encode(OpCode op, std::uint8_t ms_id, ByteView data);
/// The short form (a peer's Success or Failure acknowledgement).
Bytes encode_ack(OpCode op);
/// The OpCode of any form; kTruncated on empty Type-Data.
Result<OpCode> opcode_of(ByteView type_data);
/// The long form (at least OpCode, MS-CHAPv2-ID and MS-Length). Like strongSwan, MS-Length is
/// not required to agree with the EAP Length: the data is what the EAP packet carries.
Result<Message> decode(ByteView type_data);

struct Challenge {
    ByteView challenge;  ///< 16 bytes
    std::string name;    ///< the authenticator's name
};
Bytes encode_challenge_data(ByteView challenge, std::string_view name);
/// Value-Size must be 16 and the Name at least one byte (strongSwan requires both).
Result<Challenge> decode_challenge_data(ByteView data);

struct Response {
    ByteView peer_challenge;  ///< 16 bytes
    ByteView nt_response;     ///< 24 bytes
    std::string name;         ///< the user name, at most kMaxNameSize bytes (the rest is cut)
};
/// Value-Size 49: Peer-Challenge, 8 reserved zero bytes, NT-Response, Flags 0; then the Name.
Bytes encode_response_data(ByteView peer_challenge, ByteView nt_response, std::string_view name);
/// Value-Size must be 49.
Result<Response> decode_response_data(ByteView data);

/// The Success request's message: "S=<40 upper-case hex> M=<message>".
std::string success_message(ByteView auth_response, std::string_view message);
/// The 20 bytes of the S= field of a Success request's message (trailing NULs, which
/// strongSwan sends, are ignored); kInvalidSyntax when missing or not 40 hex digits.
Result<Bytes> parse_success_message(ByteView data);

/// The Failure request's message as strongSwan sends it: "E=<error> R=<0|1> C=<32 hex>".
std::string failure_message(unsigned error, bool retriable, ByteView challenge);
struct Failure {
    std::optional<unsigned> error;   ///< E=
    bool retriable{false};           ///< R=1
    std::optional<Bytes> challenge;  ///< C= (16 bytes) when well-formed
};
/// What a Failure request says; tolerant of missing fields (nothing in it is trusted).
Failure parse_failure_message(ByteView data);

}  // namespace ikeplex::eap::mschapv2
