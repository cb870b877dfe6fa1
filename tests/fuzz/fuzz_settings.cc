// libFuzzer target: the strongSwan settings parser (src/config/settings.h).
//
// The input is up to four files separated by lines "--8<--": /f/main.conf (parsed), then
// /f/a.conf, /f/sub/b.conf and /f/sub/c.conf, which main.conf may include ("include a.conf",
// "include sub/*.conf", "include /f/*.conf", ...). Files come from an in-memory file system;
// the real one is never touched.
//
// The include limits are lowered (2 levels, 4 files instead of 10 and 1000): with the
// defaults, a file that includes itself or a glob matching two such files makes one input parse
// up to a thousand files, which costs the fuzzer a hundred times the work and finds nothing the
// small limits do not (both limits are still reached and reported; 3 levels and 16 files gave
// the same coverage at 0.6x the executions per second, docs/fuzzing.md).
//
// Asserts that a parse fails exactly when it reports diagnostics, and that whatever parses is
// printed and parsed back to the same tree (positions aside) and printed the same again.
// Reference resolution runs on every parsed tree.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/settings.h"

namespace {

using namespace ikeplex::config;

void require(bool ok) {
    if (!ok) {
        std::abort();
    }
}

Section without_positions(Section s) {
    s.pos = {};
    for (Setting& setting : s.settings) {
        setting.pos = {};
    }
    for (Section& child : s.sections) {
        child = without_positions(std::move(child));
    }
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): libFuzzer hands out bytes
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    static const char* const kNames[] = {"/f/main.conf", "/f/a.conf", "/f/sub/b.conf",
                                         "/f/sub/c.conf"};
    constexpr std::string_view kSeparator = "\n--8<--\n";
    constexpr ParseLimits kLimits{2, 4};
    MemoryFileSystem fs;
    std::string main_text;
    for (std::size_t i = 0; i < 4; ++i) {
        const std::size_t cut = i == 3 ? std::string_view::npos : rest.find(kSeparator);
        const std::string_view part = rest.substr(0, cut);
        if (i == 0) {
            main_text = std::string(part);
        }
        fs.add(kNames[i], std::string(part));
        if (cut == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(cut + kSeparator.size());
    }

    std::vector<Diagnostic> diags;
    auto parsed = parse_settings(main_text, kNames[0], diags, fs, kLimits);
    require(parsed.has_value() == diags.empty());
    for (const Diagnostic& d : diags) {
        // Every diagnostic says what is wrong and where (to_string() is never empty, so
        // checking it could not fail; formatting each one was 9 % of the target's time).
        require(!d.message.empty() && !d.pos.file.empty() && d.pos.line >= 0);
    }
    if (!parsed) {
        return 0;
    }
    const std::string printed = print_settings(*parsed);
    std::vector<Diagnostic> again_diags;
    const MemoryFileSystem empty;
    auto again = parse_settings(printed, "/g/printed.conf", again_diags, empty);
    require(again.has_value());
    require(without_positions(*again) == without_positions(*parsed));
    require(print_settings(*again) == printed);

    std::vector<Diagnostic> ref_diags;
    auto resolved = resolve_references(*parsed, ref_diags);
    require(resolved.has_value() == ref_diags.empty());
    if (resolved) {
        (void)print_settings(*resolved);
    }
    return 0;
}
