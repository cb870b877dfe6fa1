// Text from outside (a peer's IKE or EAP identity, a certificate subject, a name inside a
// method) made safe for one log line or one row of list-sas: nothing in it can end the line,
// move the cursor or start a terminal escape sequence.
#pragma once

#include <string>
#include <string_view>

namespace ikeplex {

/// `text` with every C0 control character (0x00-0x1f), DEL (0x7f), C1 control character
/// (U+0080-U+009F) and byte that is not part of well-formed UTF-8 (RFC 3629) written as
/// "\xNN" (lower-case hex, one per byte); printable ASCII and other well-formed UTF-8 are kept
/// as they are. A backslash is kept too (identities such as "DOMAIN\user" stay readable), so
/// a literal "\x0a" in the input reads like an escaped byte. With `keep_newlines`, '\n' is kept
/// (multi-line hex dumps).
std::string escape_nonprintable(std::string_view text, bool keep_newlines = false);

/// Whether escape_nonprintable() would change `text`.
bool needs_escaping(std::string_view text, bool keep_newlines = false) noexcept;

}  // namespace ikeplex
