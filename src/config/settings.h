// strongSwan's settings syntax (strongswan.conf, swanctl.conf): text -> tree with source positions.
//
// This is only the generic syntax layer; the meaning of swanctl.conf's sections is mapped on top
// of this tree elsewhere. The syntax follows strongSwan 5.9's settings lexer and grammar
// (libstrongswan/settings/settings_lexer.l, settings_parser.y) and strongswan.conf(5):
//
//   name { ... }                      a section; a newline may stand between name and '{'
//   name : a.b, c { ... }             a section inheriting from other sections (absolute paths)
//   name = value                      value: the rest of the line up to '#', '}' or newline;
//                                     words are joined by one space ("a   b" is "a b")
//   name = "a \"quoted\"\n value"     double-quoted parts keep spaces and may span lines;
//                                     escapes \n \r \t, '\' + newline joins lines, '\x' is x
//   name =                            no value (strongSwan: the key is unset, defaults apply)
//   # comment                         to the end of the line, not inside quoted strings
//   include path/*.conf               glob relative to the including file's directory; also
//                                     inside sections (adds to that section); no match is fine
//
// Names are runs of any characters except . , : { } = " # space, tab, CR and LF. A repeated key
// replaces the earlier value (keeping the earlier position in the order); a repeated section
// extends the earlier one (strongSwan's settings_kv_add / settings_section_add).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/file_system.h"
#include "util/result.h"

namespace ikeplex::config {

/// Where something was written: file name as given or as found by include, 1-based line.
struct SourcePos {
    std::string file;
    int line{0};
    bool operator==(const SourcePos&) const = default;
};

/// One problem found in a configuration.
struct Diagnostic {
    SourcePos pos;
    std::string message;

    /// "file:line: message".
    [[nodiscard]] std::string to_string() const;
    bool operator==(const Diagnostic&) const = default;
};

/// A key/value pair. `value` is nullopt for `name =` (strongSwan stores NULL: the key is unset
/// and hides an inherited value), and "" for `name = ""`.
struct Setting {
    std::string name;
    std::optional<std::string> value;
    /// Where the effective value was assigned (the last assignment of a repeated key).
    SourcePos pos;
    bool operator==(const Setting&) const = default;
};

/// A section: ordered settings and ordered child sections, names unique within each list.
/// The root of a parsed file has an empty name.
struct Section {
    std::string name;
    /// Where the section was first opened.
    SourcePos pos;
    /// Sections this one inherits from (`name : a.b, c {`), absolute dotted paths, in order,
    /// without duplicates. resolve_references() applies them.
    std::vector<std::string> references;
    std::vector<Setting> settings;
    std::vector<Section> sections;

    /// The setting called `name` directly in this section, or nullptr.
    [[nodiscard]] const Setting* find_setting(std::string_view name) const;
    /// The child section called `name`, or nullptr.
    [[nodiscard]] const Section* find_section(std::string_view name) const;
    [[nodiscard]] Section* find_section(std::string_view name);
    /// The section at a dotted path below this one ("connections.t.children"); "" is this one.
    [[nodiscard]] const Section* find_section_path(std::string_view path) const;
    /// The setting at a dotted path ("connections.t.children.net.esp_proposals"), or nullptr.
    [[nodiscard]] const Setting* find_setting_path(std::string_view path) const;
    /// The value at a dotted path; nullopt when there is no such setting or it has no value.
    [[nodiscard]] std::optional<std::string_view> get(std::string_view path) const;

    /// Adds a setting, or replaces the value and position of the one with the same name
    /// (keeping its place in the order).
    void set(Setting setting);
    /// Adds a child section, or extends the child of the same name: its settings are set()
    /// in order, its children added recursively, its references appended (no duplicates).
    void add_section(Section section);

    bool operator==(const Section&) const = default;
};

/// Limits, all reported as diagnostics when exceeded.
inline constexpr int kMaxIncludeDepth = 10;             ///< files including files, main file = 0
inline constexpr int kMaxSectionDepth = 64;             ///< sections nested in sections
inline constexpr std::size_t kMaxIncludedFiles = 1000;  ///< files read by one parse
/// Diagnostics of one parse: past them parsing stops with one more line saying so (clang's
/// default error limit; a binary or wrong file given as configuration would otherwise print
/// an error for nearly every line).
inline constexpr std::size_t kMaxDiagnostics = 20;

/// The include limits of one parse (the defaults above; the fuzz target lowers them so that
/// an input cannot make it parse the same file a thousand times).
struct ParseLimits {
    int include_depth{kMaxIncludeDepth};
    std::size_t included_files{kMaxIncludedFiles};
};

/// Parses settings text. `file_name` is used for positions and as the base of relative include
/// patterns (its directory; no directory means relative to the working directory). Includes
/// are read through `fs`. Every problem found is appended to `diagnostics` (parsing goes on after
/// an error where it sensibly can); if there was any, returns Errc::kConfig.
Result<Section> parse_settings(std::string_view text, std::string_view file_name,
                               std::vector<Diagnostic>& diagnostics,
                               const FileSystem& fs = real_file_system(), ParseLimits limits = {});

/// Reads `path` through `fs` and parses it as parse_settings() does.
Result<Section> parse_settings_file(const std::string& path, std::vector<Diagnostic>& diagnostics,
                                    const FileSystem& fs = real_file_system());

/// Writes a tree back in the settings syntax (4-space indentation, settings before child
/// sections, values quoted and escaped where the plain form would not read back the same).
/// parse_settings(print_settings(s)) gives back `s` except for positions, for any tree whose
/// names are valid and unique per section.
std::string print_settings(const Section& root);

/// Applies section references (strongswan.conf(5) "Referencing other sections"): each section
/// with references gets, after its own content, the settings and sections of the referenced
/// sections that it does not define itself, left to right, recursively (a referenced section's
/// own references count; same-named child sections are merged). References are looked up by
/// absolute path in `root`. The result has no references left. Unknown references and cycles
/// are diagnostics and make the result Errc::kConfig.
Result<Section> resolve_references(const Section& root, std::vector<Diagnostic>& diagnostics);

/// A configuration file as its consumers see it: parse_settings_file(), then
/// resolve_references().
Result<Section> load_settings_file(const std::string& path, std::vector<Diagnostic>& diagnostics,
                                   const FileSystem& fs = real_file_system());

}  // namespace ikeplex::config
