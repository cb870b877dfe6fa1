// The settings parser: a hand-written scanner and recursive-descent parser with the token rules
// of strongSwan's settings_lexer.l (start states: statements, values, references, include
// patterns, quoted strings). Each file is parsed on its own; an include parses the matched files
// into the section that holds the include statement.
#include <string>
#include <system_error>
#include <utility>

#include "config/settings.h"

namespace ikeplex::config {
namespace {

/// Characters that end a name (strongSwan's NAME class is everything else).
bool ends_name(char c) {
    switch (c) {
        case '#':
        case '{':
        case '}':
        case ':':
        case '.':
        case ',':
        case '=':
        case '"':
        case ' ':
        case '\t':
        case '\r':
        case '\n':
            return true;
        default:
            return false;
    }
}

/// Characters that end a word of a plain value.
bool ends_value_word(char c) {
    switch (c) {
        case '#':
        case '}':
        case '"':
        case ' ':
        case '\t':
        case '\r':
        case '\n':
            return true;
        default:
            return false;
    }
}

/// Characters that end a word where a name is expected. Like ends_name() but '.' and ','
/// are taken into the word so that "a.b" is reported as one invalid name.
bool ends_word(char c) {
    return c != '.' && c != ',' && ends_name(c);
}

/// Characters that end a section reference: those of a name, but '.' separates its parts.
bool ends_reference(char c) {
    return c != '.' && ends_name(c);
}

/// Characters that end an unquoted include pattern.
bool ends_pattern(char c) {
    return c == '#' || c == '}' || c == '\n' || c == '\t' || c == ' ';
}

std::string quoted(std::string_view s) {
    return "'" + std::string(s) + "'";
}

std::string error_text(const Error& e) {
    if (e.sys_errno != 0) {
        return std::error_code(e.sys_errno, std::generic_category()).message();
    }
    return e.detail;
}

/// The directory part used for relative include patterns: "" when the name has no '/'.
std::string directory_of(std::string_view file) {
    const std::size_t slash = file.rfind('/');
    if (slash == std::string_view::npos) {
        return {};
    }
    if (slash == 0) {
        return "/";
    }
    return std::string(file.substr(0, slash));
}

/// State shared by all files of one parse.
struct ParseContext {
    const FileSystem& fs;
    std::vector<Diagnostic>& diagnostics;
    ParseLimits limits;
    std::size_t files_read{0};
    std::size_t errors{0};
    bool stopped{false};  ///< past kMaxDiagnostics: no more diagnostics, statements end
};

/// Parses one file's text.
class FileParser {
public:
    FileParser(ParseContext& ctx, std::string_view text, std::string file, int include_depth)
        : ctx_(ctx), text_(text), file_(std::move(file)), include_depth_(include_depth) {}

    /// Parses the statements of the whole file into `target`, which sits at `section_depth`.
    void parse_into(Section& target, int section_depth) {
        parse_statements(target, section_depth, nullptr);
    }

private:
    // ---- cursor ----
    [[nodiscard]] bool at_end() const { return pos_ >= text_.size(); }
    [[nodiscard]] char peek() const { return text_[pos_]; }
    char take() {
        const char c = text_[pos_++];
        if (c == '\n') {
            ++line_;
        }
        return c;
    }
    void skip_comment() {
        while (!at_end() && peek() != '\n') {
            ++pos_;
        }
    }
    /// Spaces, tabs and CRs on the current line.
    void skip_blanks() {
        while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\r')) {
            ++pos_;
        }
    }
    /// Blanks, newlines and comments: what separates tokens outside values.
    void skip_space() {
        while (!at_end()) {
            const char c = peek();
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                take();
            } else if (c == '#') {
                skip_comment();
            } else {
                return;
            }
        }
    }
    /// After an error: skips the rest of the line, but stops before braces so that sections
    /// stay balanced.
    void recover() {
        while (!at_end()) {
            const char c = peek();
            if (c == '{' || c == '}') {
                return;
            }
            take();
            if (c == '\n') {
                return;
            }
        }
    }
    std::string read_while_not(bool (*stop)(char)) {
        const std::size_t start = pos_;
        while (!at_end() && !stop(peek())) {
            ++pos_;
        }
        return std::string(text_.substr(start, pos_ - start));
    }

    void error(int line, std::string message) {
        if (ctx_.stopped) {
            return;
        }
        if (ctx_.errors == kMaxDiagnostics) {
            ctx_.diagnostics.push_back(Diagnostic{
                    SourcePos{file_, line},
                    "more than " + std::to_string(kMaxDiagnostics) + " errors, stopping here"});
            ctx_.stopped = true;
            return;
        }
        ++ctx_.errors;
        ctx_.diagnostics.push_back(Diagnostic{SourcePos{file_, line}, std::move(message)});
    }
    [[nodiscard]] SourcePos here(int line) const { return SourcePos{file_, line}; }

    // ---- grammar ----

    /// Statements up to the closing '}' of `open` (nullptr: up to the end of the file).
    void parse_statements(Section& target, int depth, const Section* open) {
        for (;;) {
            skip_space();
            if (ctx_.stopped) {
                return;
            }
            if (at_end()) {
                if (open != nullptr) {
                    error(open->pos.line,
                          "unterminated section " + quoted(open->name) + ": missing '}'");
                }
                return;
            }
            if (peek() == '}') {
                const int line = line_;
                take();
                if (open != nullptr) {
                    return;
                }
                error(line, "unexpected '}'");
                continue;
            }
            parse_statement(target, depth);
        }
    }

    void parse_statement(Section& target, int depth) {
        const int line = line_;
        const char c = peek();
        if (skip_stray_token(c, line, depth)) {
            return;
        }
        std::string name = read_while_not(ends_word);
        if (name.empty()) {  // ':' at the start of a statement
            error(line, "missing section name before " + quoted(std::string(1, c)));
            recover();
            return;
        }
        check_name(name, line);
        if (name == "include" && !at_end() && (peek() == ' ' || peek() == '\t')) {
            skip_blanks();
            if (at_end() || peek() != '=') {
                parse_include(target, line, depth);
                return;
            }
        }
        skip_space();
        if (!at_end() && peek() == '=') {
            take();
            parse_value(target, std::move(name), line);
            return;
        }
        parse_section(target, std::move(name), line, depth);
    }

    /// A statement that starts with '{', '=' or '"' instead of a name: reported, and what
    /// follows it is skipped. Returns false for any other character.
    bool skip_stray_token(char c, int line, int depth) {
        if (c == '{') {
            error(line, "missing section name before '{'");
            take();
            Section ignored;
            ignored.pos = here(line);
            parse_section_body(ignored, depth);
            return true;
        }
        if (c == '=') {
            error(line, "missing name before '='");
            take();
            Section ignored;
            parse_value(ignored, std::string(), line);
            return true;
        }
        if (c == '"') {
            error(line, "unexpected quoted string (names cannot be quoted)");
            take();
            std::string ignored;
            if (!read_quoted(ignored)) {
                error(line, "unterminated quoted string");
            }
            recover();
            return true;
        }
        return false;
    }

    /// After a section's name (not followed by '='): its references, '{' and body.
    void parse_section(Section& target, std::string name, int line, int depth) {
        std::vector<std::string> references;
        if (!at_end() && peek() == ':') {
            take();
            if (!parse_references(name, references)) {
                recover();
                if (at_end() || peek() != '{') {
                    return;
                }
            }
            skip_space();
            if (at_end() || peek() != '{') {
                error(line, "expected '{' after the references of section " + quoted(name));
                recover();
                if (at_end() || peek() != '{') {
                    return;
                }
            }
        }
        if (!at_end() && peek() == '{') {
            take();
            Section child;
            child.name = std::move(name);
            child.pos = here(line);
            child.references = std::move(references);
            parse_section_body(child, depth);
            target.add_section(std::move(child));
            return;
        }
        error(line, "expected '=' or '{' after " + quoted(name));
        // When the unexpected token is on the same line it belongs to this broken statement;
        // on a later line it may well start the next one.
        if (line_ == line) {
            recover();
        }
    }

    void check_name(std::string_view name, int line) {
        for (const char c : name) {
            if (c == '.' || c == ',') {
                error(line, "invalid character " + quoted(std::string(1, c)) + " in name " +
                                    quoted(name));
                return;
            }
        }
    }

    /// After '{': the section's statements and its '}'.
    void parse_section_body(Section& section, int depth) {
        if (depth + 1 > kMaxSectionDepth) {
            error(line_,
                  "sections nested deeper than " + std::to_string(kMaxSectionDepth) + " levels");
            skip_block();
            return;
        }
        parse_statements(section, depth + 1, &section);
    }

    /// Skips to the '}' matching an already consumed '{' without recursing (used past the
    /// nesting limit), honouring comments and quoted strings.
    void skip_block() {
        std::size_t open = 1;
        while (!at_end()) {
            const char c = take();
            if (c == '#') {
                skip_comment();
            } else if (c == '"') {
                std::string ignored;
                (void)read_quoted(ignored);
            } else if (c == '{') {
                ++open;
            } else if (c == '}' && --open == 0) {
                return;
            }
        }
    }

    /// After '=': words and quoted strings up to a newline, '#' or '}' (not consumed).
    void parse_value(Section& target, std::string name, int line) {
        std::string value;
        bool any = false;
        for (;;) {
            skip_blanks();
            if (at_end()) {
                break;
            }
            const char c = peek();
            if (c == '\n') {
                take();
                break;
            }
            if (c == '#' || c == '}') {
                break;
            }
            std::string part;
            if (c == '"') {
                const int string_line = line_;
                take();
                if (!read_quoted(part)) {
                    error(string_line, "unterminated quoted string");
                }
            } else {
                part = read_while_not(ends_value_word);
            }
            if (any) {
                value += ' ';
            }
            value += part;
            any = true;
        }
        Setting setting{std::move(name), std::nullopt, here(line)};
        if (any) {
            setting.value = std::move(value);
        }
        target.set(std::move(setting));
    }

    /// After an opening '"': the string up to the closing '"' (consumed). Returns false at the
    /// end of the text without one.
    bool read_quoted(std::string& out) {
        while (!at_end()) {
            const char c = take();
            if (c == '"') {
                return true;
            }
            if (c == '\r') {
                continue;  // raw CRs are dropped, as by strongSwan
            }
            if (c != '\\') {
                out += c;
                continue;
            }
            if (at_end()) {
                return false;
            }
            const char e = take();
            switch (e) {
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case '\n':
                    break;  // line continuation
                case '\r':
                    if (!at_end() && peek() == '\n') {
                        take();  // line continuation with CRLF
                    } else {
                        out += '\r';
                    }
                    break;
                default:
                    out += e;  // \" \\ and any other escaped character
                    break;
            }
        }
        return false;
    }

    /// After ':': `a.b, c` up to (not including) what follows the last reference.
    bool parse_references(std::string_view name, std::vector<std::string>& out) {
        for (;;) {
            skip_space();
            const int line = line_;
            std::string ref = read_while_not(ends_reference);
            if (ref.empty()) {
                error(line, "missing section reference in the definition of " + quoted(name));
                return false;
            }
            const bool valid =
                    ref.front() != '.' && ref.back() != '.' && ref.find("..") == std::string::npos;
            if (!valid) {
                error(line, "invalid section reference " + quoted(ref));
            } else {
                bool seen = false;
                for (const std::string& r : out) {
                    seen = seen || r == ref;
                }
                if (!seen) {
                    out.push_back(std::move(ref));
                }
            }
            skip_space();
            if (at_end() || peek() != ',') {
                return valid;
            }
            take();
        }
    }

    /// After `include` and its blanks: the pattern (plain with \" \# \} \<space> escapes, or
    /// one quoted string) and the files it matches.
    void parse_include(Section& target, int line, int depth) {
        std::string pattern;
        while (!at_end()) {
            const char c = peek();
            if (c == '\r') {
                take();
                continue;
            }
            if (ends_pattern(c)) {
                break;
            }
            take();
            if (c == '"') {
                const int string_line = line_;
                if (!read_quoted(pattern)) {
                    error(string_line, "unterminated quoted string");
                    return;
                }
                break;
            }
            if (c == '\\' && !at_end() &&
                (peek() == '"' || peek() == '#' || peek() == '}' || peek() == ' ')) {
                pattern += take();
                continue;
            }
            pattern += c;
        }
        if (pattern.empty()) {
            error(line, "missing file pattern after 'include'");
            return;
        }
        include_files(target, pattern, line, depth);
    }

    void include_files(Section& target, const std::string& pattern, int line, int depth) {
        if (include_depth_ + 1 > ctx_.limits.include_depth) {
            error(line, "includes nested deeper than " + std::to_string(ctx_.limits.include_depth) +
                                " levels at " + quoted(pattern));
            return;
        }
        std::string full = pattern;
        if (pattern.front() != '/') {
            const std::string dir = directory_of(file_);
            if (!dir.empty()) {
                full = (dir == "/" ? dir : dir + "/") + pattern;
            }
        }
        auto matches = ctx_.fs.glob(full);
        if (!matches) {
            error(line, "unable to expand include pattern " + quoted(full) + ": " +
                                error_text(matches.error()));
            return;
        }
        for (const std::string& path : *matches) {
            if (++ctx_.files_read > ctx_.limits.included_files) {
                error(line, "more than " + std::to_string(ctx_.limits.included_files) +
                                    " files included");
                return;
            }
            auto content = ctx_.fs.read_file(path);
            if (!content) {
                error(line, "unable to read " + quoted(path) + ": " + error_text(content.error()));
                continue;
            }
            FileParser sub(ctx_, *content, path, include_depth_ + 1);
            sub.parse_into(target, depth);
        }
    }

    ParseContext& ctx_;
    std::string_view text_;
    std::string file_;
    int include_depth_;
    std::size_t pos_{0};
    int line_{1};
};

constexpr const char* kInvalid = "settings: invalid configuration (see diagnostics)";

}  // namespace

Result<Section> parse_settings(std::string_view text, std::string_view file_name,
                               std::vector<Diagnostic>& diagnostics, const FileSystem& fs,
                               ParseLimits limits) {
    const std::size_t before = diagnostics.size();
    ParseContext ctx{fs, diagnostics, limits};
    Section root;
    root.pos = SourcePos{std::string(file_name), 0};
    FileParser parser(ctx, text, std::string(file_name), 0);
    parser.parse_into(root, 0);
    if (diagnostics.size() != before) {
        return make_error(Errc::kConfig, kInvalid);
    }
    return root;
}

Result<Section> parse_settings_file(const std::string& path, std::vector<Diagnostic>& diagnostics,
                                    const FileSystem& fs) {
    auto content = fs.read_file(path);
    if (!content) {
        diagnostics.push_back(
                Diagnostic{SourcePos{path, 0},
                           "unable to read " + quoted(path) + ": " + error_text(content.error())});
        return make_error(Errc::kConfig, "settings: unable to read the file");
    }
    return parse_settings(*content, path, diagnostics, fs);
}

}  // namespace ikeplex::config
