#include "vici/message.h"

#include <utility>

#include "util/reader.h"

namespace ikeplex::vici {
namespace {

Error invalid(const char* detail, std::uint32_t arg = 0) {
    return make_error(Errc::kInvalidSyntax, detail, 0, arg);
}

std::string to_name(std::string_view name) {
    return std::string(name);
}

// ---- decoding --------------------------------------------------------------------------------

/// name8: a 1-byte length and that many bytes, never empty.
Result<std::string> read_name(Reader& r, const char* length_field, const char* name_field) {
    const std::uint8_t len = IKEPLEX_TRY(r.read_u8(length_field));
    if (len == 0) {
        return invalid("vici: empty name");
    }
    const ByteView name = IKEPLEX_TRY(r.read_bytes(len, name_field));
    return std::string(name.begin(), name.end());
}

/// value16: a 2-byte big-endian length and that many bytes.
Result<Bytes> read_value(Reader& r, const char* length_field, const char* value_field) {
    const std::uint16_t len = IKEPLEX_TRY(r.read_u16(length_field));
    const ByteView value = IKEPLEX_TRY(r.read_bytes(len, value_field));
    return Bytes(value.begin(), value.end());
}

/// The items of a list whose LIST_START (and name) has been read, up to its LIST_END.
Result<std::vector<Bytes>> read_list_items(Reader& r) {
    std::vector<Bytes> items;
    for (;;) {
        if (r.empty()) {
            return invalid("vici: list not closed");
        }
        const std::uint8_t type = IKEPLEX_TRY(r.read_u8("vici: element type"));
        if (type == static_cast<std::uint8_t>(ElementType::kListEnd)) {
            return items;
        }
        if (type != static_cast<std::uint8_t>(ElementType::kListItem)) {
            return invalid("vici: element other than an item inside a list", type);
        }
        items.push_back(
                IKEPLEX_TRY(read_value(r, "vici: list item length", "vici: list item value")));
    }
}

/// Reads entries into `out` until the SECTION_END that closes it (depth > 0) or the end of the
/// input (depth 0, the root).
Status read_entries(Reader& r, Message& out, std::size_t depth) {
    for (;;) {
        if (r.empty()) {
            if (depth != 0) {
                return invalid("vici: section not closed");
            }
            return ok();
        }
        const std::uint8_t type = IKEPLEX_TRY(r.read_u8("vici: element type"));
        switch (static_cast<ElementType>(type)) {
            case ElementType::kSectionStart: {
                std::string name = IKEPLEX_TRY(
                        read_name(r, "vici: section name length", "vici: section name"));
                if (depth + 1 > kMaxDepth) {
                    return make_error(Errc::kTooLarge, "vici: sections nested too deeply", 0,
                                      static_cast<std::uint32_t>(depth + 1));
                }
                Section section{std::move(name), {}};
                IKEPLEX_TRY(read_entries(r, section.body, depth + 1));
                out.entries.emplace_back(std::move(section));
                break;
            }
            case ElementType::kSectionEnd:
                if (depth == 0) {
                    return invalid("vici: section end without a section");
                }
                return ok();
            case ElementType::kKeyValue: {
                std::string name =
                        IKEPLEX_TRY(read_name(r, "vici: key name length", "vici: key name"));
                Bytes value = IKEPLEX_TRY(read_value(r, "vici: value length", "vici: value"));
                out.entries.emplace_back(KeyValue{std::move(name), std::move(value)});
                break;
            }
            case ElementType::kListStart: {
                std::string name =
                        IKEPLEX_TRY(read_name(r, "vici: list name length", "vici: list name"));
                std::vector<Bytes> items = IKEPLEX_TRY(read_list_items(r));
                out.entries.emplace_back(List{std::move(name), std::move(items)});
                break;
            }
            case ElementType::kListItem:
                return invalid("vici: list item outside a list");
            case ElementType::kListEnd:
                return invalid("vici: list end without a list");
            default:
                return invalid("vici: unknown element type", type);
        }
    }
}

// ---- encoding --------------------------------------------------------------------------------

Status write_name(Writer& w, const std::string& name) {
    if (name.empty()) {
        return make_error(Errc::kInvalidArgument, "vici: empty name");
    }
    if (name.size() > kMaxNameLength) {
        return make_error(Errc::kTooLarge, "vici: name longer than 255 bytes", 0,
                          static_cast<std::uint32_t>(name.size()));
    }
    w.write_u8(static_cast<std::uint8_t>(name.size()));
    w.write_bytes(as_bytes(name));
    return ok();
}

Status write_value(Writer& w, const Bytes& value) {
    if (value.size() > kMaxValueLength) {
        return make_error(Errc::kTooLarge, "vici: value longer than 65535 bytes", 0,
                          static_cast<std::uint32_t>(value.size()));
    }
    w.write_u16(static_cast<std::uint16_t>(value.size()));
    w.write_bytes(value);
    return ok();
}

void write_type(Writer& w, ElementType t) {
    w.write_u8(static_cast<std::uint8_t>(t));
}

Status write_entries(Writer& w, const Message& m, std::size_t depth);

Status write_entry(Writer& w, const Entry& e, std::size_t depth) {
    if (const auto* kv = std::get_if<KeyValue>(&e)) {
        write_type(w, ElementType::kKeyValue);
        IKEPLEX_TRY(write_name(w, kv->name));
        return write_value(w, kv->value);
    }
    if (const auto* list = std::get_if<List>(&e)) {
        write_type(w, ElementType::kListStart);
        IKEPLEX_TRY(write_name(w, list->name));
        for (const Bytes& item : list->items) {
            write_type(w, ElementType::kListItem);
            IKEPLEX_TRY(write_value(w, item));
        }
        write_type(w, ElementType::kListEnd);
        return ok();
    }
    const Section& section = *std::get_if<Section>(&e);
    if (depth + 1 > kMaxDepth) {
        return make_error(Errc::kTooLarge, "vici: sections nested too deeply", 0,
                          static_cast<std::uint32_t>(depth + 1));
    }
    write_type(w, ElementType::kSectionStart);
    IKEPLEX_TRY(write_name(w, section.name));
    IKEPLEX_TRY(write_entries(w, section.body, depth + 1));
    write_type(w, ElementType::kSectionEnd);
    return ok();
}

Status write_entries(Writer& w, const Message& m, std::size_t depth) {
    for (const Entry& e : m.entries) {
        IKEPLEX_TRY(write_entry(w, e, depth));
    }
    return ok();
}

// ---- dump ------------------------------------------------------------------------------------

void dump_value(std::string& out, const Bytes& value) {
    bool printable = true;
    for (const std::uint8_t c : value) {
        printable = printable && c >= 0x20 && c < 0x7f;
    }
    if (printable) {
        out += as_text(value);
        return;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    out += "0x";
    for (const std::uint8_t c : value) {
        out += kHex[c >> 4U];
        out += kHex[c & 0x0fU];
    }
}

void dump_entries(std::string& out, const Message& m) {
    out += '{';
    bool first = true;
    for (const Entry& e : m.entries) {
        if (!first) {
            out += ' ';
        }
        first = false;
        out += entry_name(e);
        if (const auto* kv = std::get_if<KeyValue>(&e)) {
            out += '=';
            dump_value(out, kv->value);
        } else if (const auto* list = std::get_if<List>(&e)) {
            out += "=[";
            for (std::size_t i = 0; i < list->items.size(); ++i) {
                if (i != 0) {
                    out += ' ';
                }
                dump_value(out, list->items[i]);
            }
            out += ']';
        } else {
            out += ' ';
            dump_entries(out, std::get_if<Section>(&e)->body);
        }
    }
    out += '}';
}

template <class T>
const T* find_entry(const std::vector<Entry>& entries, std::string_view name) noexcept {
    for (const Entry& e : entries) {
        const auto* p = std::get_if<T>(&e);
        if (p != nullptr && p->name == name) {
            return p;
        }
    }
    return nullptr;
}

}  // namespace

std::vector<std::string_view> List::texts() const {
    std::vector<std::string_view> out;
    out.reserve(items.size());
    for (const Bytes& item : items) {
        out.push_back(as_text(item));
    }
    return out;
}

void Message::add(std::string_view key, std::string_view value) {
    entries.emplace_back(KeyValue{to_name(key), to_bytes(value)});
}

void Message::add_bytes(std::string_view key, ByteView value) {
    entries.emplace_back(KeyValue{to_name(key), Bytes(value.begin(), value.end())});
}

void Message::set(std::string_view key, std::string_view value) {
    for (Entry& e : entries) {
        auto* kv = std::get_if<KeyValue>(&e);
        if (kv != nullptr && kv->name == key) {
            kv->value = to_bytes(value);
            return;
        }
    }
    add(key, value);
}

List& Message::add_list(std::string_view name, std::initializer_list<std::string_view> items) {
    List list{to_name(name), {}};
    list.items.reserve(items.size());
    for (const std::string_view item : items) {
        list.add(item);
    }
    return *std::get_if<List>(&entries.emplace_back(std::move(list)));
}

Message& Message::add_section(std::string_view name) {
    return std::get_if<Section>(&entries.emplace_back(Section{to_name(name), {}}))->body;
}

const KeyValue* Message::find_value(std::string_view key) const noexcept {
    return find_entry<KeyValue>(entries, key);
}

std::optional<std::string_view> Message::get(std::string_view key) const noexcept {
    const KeyValue* kv = find_value(key);
    if (kv == nullptr) {
        return std::nullopt;
    }
    return kv->text();
}

const List* Message::find_list(std::string_view name) const noexcept {
    return find_entry<List>(entries, name);
}

const Message* Message::find_section(std::string_view name) const noexcept {
    const auto* s = find_entry<Section>(entries, name);
    return s == nullptr ? nullptr : &s->body;
}

Message* Message::find_section(std::string_view name) noexcept {
    return const_cast<Message*>(std::as_const(*this).find_section(name));
}

bool Message::operator==(const Message& other) const {
    return entries == other.entries;
}

const std::string& entry_name(const Entry& e) noexcept {
    if (const auto* kv = std::get_if<KeyValue>(&e)) {
        return kv->name;
    }
    if (const auto* list = std::get_if<List>(&e)) {
        return list->name;
    }
    return std::get_if<Section>(&e)->name;
}

Status encode(const Message& m, Writer& out) {
    return write_entries(out, m, 0);
}

Result<Bytes> encode(const Message& m) {
    Writer w;
    IKEPLEX_TRY(encode(m, w));
    return std::move(w).take();
}

Result<Message> decode(ByteView bytes) {
    Reader r(bytes);
    Message m;
    IKEPLEX_TRY(read_entries(r, m, 0));
    return m;
}

std::string dump(const Message& m) {
    std::string out;
    dump_entries(out, m);
    return out;
}

}  // namespace ikeplex::vici
