// Section references (`name : a.b, c { }`), applied to a copy of the tree. Follows the lookup
// order of strongSwan's settings.c: a section's own settings and sections first, then those of
// each referenced section left to right, each with its own references applied.
#include <algorithm>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>

#include "config/settings.h"

namespace ikeplex::config {
namespace {

/// Settings plus sections a resolved tree may hold in total; references can multiply a tree
/// (a section referencing two copies of a section referencing two copies of ...).
constexpr std::size_t kMaxResolvedNodes = 1'000'000;
/// Sections being resolved at once (nesting plus chains of references); bounds the recursion.
constexpr std::size_t kMaxActive = 256;

/// "'a' ... 'b'" messages without a chain of temporaries.
std::string message(std::initializer_list<std::string_view> parts) {
    std::string out;
    for (const std::string_view p : parts) {
        out += p;
    }
    return out;
}

std::size_t node_count(const Section& s) {
    std::size_t n = 1 + s.settings.size();
    for (const Section& child : s.sections) {
        n += node_count(child);
    }
    return n;
}

/// Adds to `base` what `extra` has and `base` does not (recursively for same-named sections).
void overlay(Section& base, const Section& extra) {
    for (const Setting& s : extra.settings) {
        if (base.find_setting(s.name) == nullptr) {
            base.settings.push_back(s);
        }
    }
    for (const Section& child : extra.sections) {
        if (Section* mine = base.find_section(child.name)) {
            overlay(*mine, child);
        } else {
            base.sections.push_back(child);
        }
    }
}

class Resolver {
public:
    Resolver(const Section& root, std::vector<Diagnostic>& diagnostics)
        : root_(root), diagnostics_(diagnostics) {}

    Section resolve(const Section& section, const std::string& path) {
        const auto memo = done_.find(&section);
        if (memo != done_.end()) {
            charge(node_count(memo->second));
            return memo->second;
        }
        active_.push_back(&section);
        Section out;
        out.name = section.name;
        out.pos = section.pos;
        out.settings = section.settings;
        charge(1 + out.settings.size());
        for (const Section& child : section.sections) {
            if (over_budget_) {
                break;
            }
            out.sections.push_back(
                    resolve(child, path.empty() ? child.name : path + "." + child.name));
        }
        for (const std::string& ref : section.references) {
            if (over_budget_) {
                break;
            }
            const Section* target = root_.find_section_path(ref);
            if (target == nullptr) {
                report(section.pos,
                       message({"section '", path, "' references unknown section '", ref, "'"}));
                continue;
            }
            if (std::find(active_.begin(), active_.end(), target) != active_.end()) {
                report(section.pos,
                       message({"reference '", ref, "' of section '", path, "' creates a cycle"}));
                continue;
            }
            if (active_.size() >= kMaxActive) {
                report(section.pos,
                       message({"section references of '", path, "' nested deeper than ",
                                std::to_string(kMaxActive), " levels"}));
                continue;
            }
            const Section inherited = resolve(*target, ref);
            const std::size_t before = node_count(out);
            overlay(out, inherited);
            charge(node_count(out) - before);
        }
        active_.pop_back();
        if (!over_budget_) {
            done_.emplace(&section, out);
        }
        return out;
    }

    [[nodiscard]] bool over_budget() const { return over_budget_; }

private:
    void charge(std::size_t nodes) {
        used_ += nodes;
        if (used_ > kMaxResolvedNodes && !over_budget_) {
            over_budget_ = true;
            report(root_.pos, "section references expand to more than " +
                                      std::to_string(kMaxResolvedNodes) + " settings");
        }
    }
    void report(const SourcePos& pos, std::string message) {
        diagnostics_.push_back(Diagnostic{pos, std::move(message)});
    }

    const Section& root_;
    std::vector<Diagnostic>& diagnostics_;
    std::map<const Section*, Section> done_;
    std::vector<const Section*> active_;
    std::size_t used_{0};
    bool over_budget_{false};
};

}  // namespace

Result<Section> load_settings_file(const std::string& path, std::vector<Diagnostic>& diagnostics,
                                   const FileSystem& fs) {
    auto root = parse_settings_file(path, diagnostics, fs);
    if (!root) {
        return root.error();
    }
    return resolve_references(*root, diagnostics);
}

Result<Section> resolve_references(const Section& root, std::vector<Diagnostic>& diagnostics) {
    const std::size_t before = diagnostics.size();
    Resolver resolver(root, diagnostics);
    Section out = resolver.resolve(root, std::string());
    if (diagnostics.size() != before) {
        return make_error(Errc::kConfig, "settings: invalid section references (see diagnostics)");
    }
    return out;
}

}  // namespace ikeplex::config
