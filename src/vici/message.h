// A VICI message: strongSwan's control-protocol data tree (src/libcharon/plugins/vici/README.md,
// "Message format"), and the functions that read and write its encoding.
//
// A message is an ordered list of entries: key/values (name + byte value), lists (name + byte
// items) and sections (name + a nested message). Order is kept exactly as received or built,
// because swanctl prints entries in message order.
//
// Encoding, one element after another (no length for the whole message; the packet gives it):
//   SECTION_START = 1   name8                 KEY_VALUE = 3   name8 value16
//   SECTION_END   = 2                         LIST_START = 4  name8
//   LIST_ITEM     = 5   value16               LIST_END   = 6
// name8 is a 1-byte length and 1..255 bytes; value16 a 2-byte big-endian length and 0..65535
// bytes. decode() is strict: unknown element types, truncated fields, unbalanced sections or
// lists, items outside a list, anything but items inside a list, empty names and sections
// nested deeper than kMaxDepth are errors. Duplicate names are kept as they came (charon 5.9.8
// accepts them as well); the find functions return the first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/bytes.h"
#include "util/result.h"
#include "util/writer.h"

namespace ikeplex::vici {

/// Message element types (the first byte of each element).
enum class ElementType : std::uint8_t {
    kSectionStart = 1,
    kSectionEnd = 2,
    kKeyValue = 3,
    kListStart = 4,
    kListItem = 5,
    kListEnd = 6,
};

/// Longest name (1-byte length field). Names are never empty.
inline constexpr std::size_t kMaxNameLength = 255;
/// Longest value or list item (2-byte length field).
inline constexpr std::size_t kMaxValueLength = 65535;
/// Deepest section nesting decode() and encode() accept (the root counts as 0).
inline constexpr std::size_t kMaxDepth = 64;

/// The bytes of a value as text (VICI values are non-NUL-terminated strings by convention).
inline std::string_view as_text(const Bytes& value) noexcept {
    return {reinterpret_cast<const char*>(value.data()), value.size()};
}

/// `name = value`.
struct KeyValue {
    std::string name;
    Bytes value;

    [[nodiscard]] std::string_view text() const noexcept { return as_text(value); }
    bool operator==(const KeyValue&) const = default;
};

/// `name = [ item, item, ... ]` (possibly empty).
struct List {
    std::string name;
    std::vector<Bytes> items;

    /// Appends an item.
    void add(std::string_view item) { items.push_back(to_bytes(item)); }
    /// The items as text, in order.
    [[nodiscard]] std::vector<std::string_view> texts() const;
    bool operator==(const List&) const = default;
};

struct Section;

/// One entry of a message.
using Entry = std::variant<KeyValue, List, Section>;

/// An ordered list of entries; the root of a VICI message or the body of a section.
struct Message {
    std::vector<Entry> entries;

    [[nodiscard]] bool empty() const noexcept;
    [[nodiscard]] std::size_t size() const noexcept;
    [[nodiscard]] std::vector<Entry>::const_iterator begin() const noexcept;
    [[nodiscard]] std::vector<Entry>::const_iterator end() const noexcept;

    // Building. References returned stay valid until the next entry is added to *this*
    // message (they point into `entries`).

    /// Appends `key = value`.
    void add(std::string_view key, std::string_view value);
    /// Appends `key = value` with a binary value.
    void add_bytes(std::string_view key, ByteView value);
    /// Replaces the value of the first key/value named `key`, or appends one.
    void set(std::string_view key, std::string_view value);
    /// Appends a list, with `items` if given; returns it for more items.
    List& add_list(std::string_view name, std::initializer_list<std::string_view> items = {});
    /// Appends an empty section; returns its body to fill.
    Message& add_section(std::string_view name);

    // Reading (the first entry of that name and kind, or nothing).

    /// The first key/value named `key`.
    [[nodiscard]] const KeyValue* find_value(std::string_view key) const noexcept;
    /// The value of the first key/value named `key`, as text.
    [[nodiscard]] std::optional<std::string_view> get(std::string_view key) const noexcept;
    /// The first list named `name`.
    [[nodiscard]] const List* find_list(std::string_view name) const noexcept;
    /// The body of the first section named `name`.
    [[nodiscard]] const Message* find_section(std::string_view name) const noexcept;
    [[nodiscard]] Message* find_section(std::string_view name) noexcept;

    bool operator==(const Message& other) const;
};

/// `name { body }`.
struct Section {
    std::string name;
    Message body;

    bool operator==(const Section&) const = default;
};

// Defined here, where Entry is complete.
inline bool Message::empty() const noexcept {
    return entries.empty();
}
inline std::size_t Message::size() const noexcept {
    return entries.size();
}
inline std::vector<Entry>::const_iterator Message::begin() const noexcept {
    return entries.begin();
}
inline std::vector<Entry>::const_iterator Message::end() const noexcept {
    return entries.end();
}

/// The name of any entry.
const std::string& entry_name(const Entry& e) noexcept;

/// Appends the encoding of `m` to `out`. kInvalidArgument for an empty name, kTooLarge for a
/// name over 255 bytes, a value over 65535 bytes or sections nested deeper than kMaxDepth.
Status encode(const Message& m, Writer& out);
/// The encoding of `m` (errors as above).
Result<Bytes> encode(const Message& m);
/// Reads a whole message (the rest of a packet). Errors: kTruncated (input ends inside an
/// element; detail names the field), kInvalidSyntax (unknown element type with the type in
/// `arg`, unbalanced section or list, list item outside a list, other element inside a list,
/// empty name), kTooLarge (sections nested deeper than kMaxDepth).
Result<Message> decode(ByteView bytes);

/// One-line text in the style of `swanctl --raw`: `{key=value list=[a b] section {...}}`.
/// Values that are not printable ASCII are shown as 0x followed by hex digits.
std::string dump(const Message& m);

}  // namespace ikeplex::vici
