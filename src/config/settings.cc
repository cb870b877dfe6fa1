// The settings tree: lookups, strongSwan's merge rules, and the printer.
#include "config/settings.h"

#include <algorithm>
#include <utility>

namespace ikeplex::config {
namespace {

/// Splits "a.b.c" into "a.b" and "c" (no dot: "" and the whole path).
std::pair<std::string_view, std::string_view> split_last(std::string_view path) {
    const std::size_t dot = path.rfind('.');
    if (dot == std::string_view::npos) {
        return {std::string_view{}, path};
    }
    return {path.substr(0, dot), path.substr(dot + 1)};
}

/// True when `value` written as is (unquoted) reads back as the same string: the lexer stops
/// plain values at # } " CR LF, splits words at blanks and joins them with one space.
bool plain_value_ok(std::string_view value) {
    if (value.empty() || value.front() == ' ' || value.back() == ' ') {
        return false;
    }
    char prev = '\0';
    for (const char c : value) {
        switch (c) {
            case '#':
            case '}':
            case '"':
            case '\r':
            case '\n':
            case '\t':
                return false;
            case ' ':
                if (prev == ' ') {
                    return false;
                }
                break;
            default:
                break;
        }
        prev = c;
    }
    return true;
}

void append_value(std::string& out, std::string_view value) {
    if (plain_value_ok(value)) {
        out += value;
        return;
    }
    out += '"';
    for (const char c : value) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                out += c;
                break;
        }
    }
    out += '"';
}

void indent_to(std::string& out, int depth) {
    out.append(static_cast<std::size_t>(depth) * 4U, ' ');
}

void print_body(const Section& section, int depth, std::string& out) {
    for (const Setting& s : section.settings) {
        indent_to(out, depth);
        out += s.name;
        out += " =";
        if (s.value) {
            out += ' ';
            append_value(out, *s.value);
        }
        out += '\n';
    }
    for (const Section& child : section.sections) {
        indent_to(out, depth);
        out += child.name;
        // "include" followed by a blank would start an include statement.
        const bool tight = child.name == "include";
        if (!child.references.empty()) {
            out += tight ? ": " : " : ";
            for (std::size_t i = 0; i < child.references.size(); ++i) {
                if (i > 0) {
                    out += ", ";
                }
                out += child.references[i];
            }
            out += " {\n";
        } else {
            out += tight ? "{\n" : " {\n";
        }
        print_body(child, depth + 1, out);
        indent_to(out, depth);
        out += "}\n";
    }
}

}  // namespace

std::string Diagnostic::to_string() const {
    return pos.file + ":" + std::to_string(pos.line) + ": " + message;
}

const Setting* Section::find_setting(std::string_view key) const {
    const auto it = std::find_if(settings.begin(), settings.end(),
                                 [&](const Setting& s) { return s.name == key; });
    return it == settings.end() ? nullptr : &*it;
}

const Section* Section::find_section(std::string_view child) const {
    const auto it = std::find_if(sections.begin(), sections.end(),
                                 [&](const Section& s) { return s.name == child; });
    return it == sections.end() ? nullptr : &*it;
}

Section* Section::find_section(std::string_view child) {
    const auto it = std::find_if(sections.begin(), sections.end(),
                                 [&](const Section& s) { return s.name == child; });
    return it == sections.end() ? nullptr : &*it;
}

const Section* Section::find_section_path(std::string_view path) const {
    const Section* current = this;
    while (!path.empty() && current != nullptr) {
        const std::size_t dot = path.find('.');
        current = current->find_section(path.substr(0, dot));
        path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    }
    return current;
}

const Setting* Section::find_setting_path(std::string_view path) const {
    const auto [dir, key] = split_last(path);
    const Section* section = find_section_path(dir);
    return section == nullptr ? nullptr : section->find_setting(key);
}

std::optional<std::string_view> Section::get(std::string_view path) const {
    const Setting* s = find_setting_path(path);
    if (s == nullptr || !s->value) {
        return std::nullopt;
    }
    return std::string_view(*s->value);
}

void Section::set(Setting setting) {
    const auto it = std::find_if(settings.begin(), settings.end(),
                                 [&](const Setting& s) { return s.name == setting.name; });
    if (it == settings.end()) {
        settings.push_back(std::move(setting));
        return;
    }
    it->value = std::move(setting.value);
    it->pos = std::move(setting.pos);
}

void Section::add_section(Section section) {
    Section* existing = find_section(section.name);
    if (existing == nullptr) {
        sections.push_back(std::move(section));
        return;
    }
    for (std::string& ref : section.references) {
        if (std::find(existing->references.begin(), existing->references.end(), ref) ==
            existing->references.end()) {
            existing->references.push_back(std::move(ref));
        }
    }
    for (Setting& s : section.settings) {
        existing->set(std::move(s));
    }
    for (Section& child : section.sections) {
        existing->add_section(std::move(child));
    }
}

std::string print_settings(const Section& root) {
    std::string out;
    print_body(root, 0, out);
    return out;
}

}  // namespace ikeplex::config
