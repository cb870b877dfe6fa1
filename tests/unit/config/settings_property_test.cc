// Properties (rapidcheck): a random tree printed and parsed back is the same tree; random text
// never crashes the parser, and whatever parses prints and parses back to the same tree.
#include <string>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "config/settings.h"
#include "settings_test_util.h"

namespace ikeplex::config {
namespace {

namespace gen = rc::gen;

/// Characters allowed in names: any but . , : { } = " # and whitespace. A few of each kind.
rc::Gen<char> name_char() {
    return gen::oneOf(gen::elementOf(std::string("abcxyzABZ0189")),
                      gen::elementOf(std::string("-_/@!$%^&*()[]<>?|;'~`+\\")),
                      gen::elementOf(std::string("\x01\x0b\x0c\x7f\x80\xc3\xa9\xff")));
}

rc::Gen<std::string> name() {
    return gen::weightedOneOf<std::string>(
            {{20, gen::nonEmpty(gen::container<std::string>(name_char()))},
             {1, gen::just(std::string("include"))}});
}

/// Values: any bytes, with the characters that matter to the syntax made likely.
rc::Gen<std::optional<std::string>> value() {
    const auto c = gen::weightedOneOf<char>({{6, gen::elementOf(std::string("abc019.:,=/{"))},
                                             {4, gen::elementOf(std::string(" \t\r\n#}\"\\"))},
                                             {1, gen::arbitrary<char>()}});
    return gen::weightedOneOf<std::optional<std::string>>(
            {{1, gen::just(std::optional<std::string>())},
             {10, gen::map(gen::container<std::string>(c), [](std::string s) {
                  return std::optional<std::string>(std::move(s));
              })}});
}

/// A reference: one to three names joined by dots.
std::string reference() {
    const auto parts = *gen::inRange<std::size_t>(1, 4);
    std::string out;
    for (std::size_t i = 0; i < parts; ++i) {
        if (i > 0) {
            out += '.';
        }
        out += *name();
    }
    return out;
}

/// A tree with unique names per section, as parsing always yields.
Section random_section(int depth) {
    Section s;
    const auto settings = *gen::inRange(0, 5);
    for (int i = 0; i < settings; ++i) {
        std::string n = *name();
        if (s.find_setting(n) == nullptr) {
            s.settings.push_back(Setting{std::move(n), *value(), {}});
        }
    }
    if (depth >= 3) {
        return s;
    }
    const auto children = *gen::inRange(0, 4 - depth);
    for (int i = 0; i < children; ++i) {
        Section child = random_section(depth + 1);
        child.name = *name();
        const auto refs = *gen::inRange(0, 3);
        for (int j = 0; j < refs; ++j) {
            std::string r = reference();
            if (std::find(child.references.begin(), child.references.end(), r) ==
                child.references.end()) {
                child.references.push_back(std::move(r));
            }
        }
        if (s.find_section(child.name) == nullptr) {
            s.sections.push_back(std::move(child));
        }
    }
    return s;
}

RC_GTEST_PROP(SettingsProperty, PrintThenParseGivesTheSameTree, ()) {
    const Section tree = random_section(0);
    const std::string text = print_settings(tree);
    std::vector<Diagnostic> diags;
    auto back = parse_settings(text, "p.conf", diags, test::no_files());
    for (const Diagnostic& d : diags) {
        RC_FAIL(d.to_string() + "\n" + text);
    }
    RC_ASSERT(back.has_value());
    RC_ASSERT(test::strip_positions(*back) == tree);
    RC_ASSERT(print_settings(*back) == text);
}

RC_GTEST_PROP(SettingsProperty, RandomTextParsesOrReportsAndRoundTrips, ()) {
    const auto c = gen::weightedOneOf<char>({{8, gen::elementOf(std::string("ab1 \n{}=#\":.,\\"))},
                                             {1, gen::elementOf(std::string("\t\r"))},
                                             {1, gen::arbitrary<char>()}});
    const std::string text =
            *gen::oneOf(gen::container<std::string>(c),
                        gen::just(std::string("include x\na { b = c }\nd : a { }\n")));
    std::vector<Diagnostic> diags;
    auto parsed = parse_settings(text, "r.conf", diags, test::no_files());
    RC_ASSERT(parsed.has_value() == diags.empty());
    if (!parsed) {
        return;
    }
    const std::string printed = print_settings(*parsed);
    std::vector<Diagnostic> again_diags;
    auto again = parse_settings(printed, "r.conf", again_diags, test::no_files());
    RC_ASSERT(again.has_value());
    RC_ASSERT(test::strip_positions(*again) == test::strip_positions(*parsed));
    std::vector<Diagnostic> ref_diags;
    (void)resolve_references(*parsed, ref_diags);
}

}  // namespace
}  // namespace ikeplex::config
