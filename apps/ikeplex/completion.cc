#include "completion.h"

#include <iostream>
#include <string_view>
#include <vector>

namespace ikeplex::apps {
namespace {

/// Names are written into the script unquoted: only plain command-line words qualify.
bool plain_word(std::string_view w) {
    if (w.empty()) {
        return false;
    }
    for (const char c : w) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/// "-u --uri" for an option (its short and long names as typed).
std::vector<std::string> typed_names(const CLI::Option& o) {
    std::vector<std::string> out;
    for (const auto& s : o.get_snames()) {
        out.push_back("-" + s);
    }
    for (const auto& l : o.get_lnames()) {
        out.push_back("--" + l);
    }
    std::erase_if(out, [](const std::string& w) { return !plain_word(w); });
    return out;
}

bool is_file_option(const CLI::Option& o) {
    for (const auto& l : o.get_lnames()) {
        if (l == "file" || l == "config") {
            return true;
        }
    }
    return false;
}

/// One command of the tree (path "" for the program itself, "a b" for a nested one).
struct Scope {
    std::string path;
    std::vector<std::string> words;        ///< its options and subcommands
    std::vector<std::string> subcommands;  ///< their names
    std::vector<std::string> file_options;
    std::vector<std::string> value_options;  ///< take a value that is not completed
};

void collect(const CLI::App& app, const std::string& path, std::vector<Scope>& out) {
    Scope s;
    s.path = path;
    for (const CLI::Option* o : app.get_options()) {
        if (o->get_group().empty() || !o->nonpositional()) {
            continue;  // hidden, or a positional argument
        }
        const auto names = typed_names(*o);
        s.words.insert(s.words.end(), names.begin(), names.end());
        if (o->get_expected_max() > 0 && o->get_type_size_max() > 0) {  // takes a value
            auto& to = is_file_option(*o) ? s.file_options : s.value_options;
            to.insert(to.end(), names.begin(), names.end());
        }
    }
    std::vector<const CLI::App*> subs = app.get_subcommands(
            [](const CLI::App* a) { return !a->get_group().empty() && plain_word(a->get_name()); });
    for (const CLI::App* sub : subs) {
        s.words.push_back(sub->get_name());
        s.subcommands.push_back(sub->get_name());
    }
    out.push_back(s);
    for (const CLI::App* sub : subs) {
        collect(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), out);
    }
}

/// `"scope:w1"|"scope:w2"` for a case pattern.
std::string patterns(const std::string& path, const std::vector<std::string>& words) {
    std::string p;
    for (const auto& w : words) {
        p.append(p.empty() ? "\"" : "|\"").append(path).append(":").append(w).append("\"");
    }
    return p;
}

std::string join(const std::vector<std::string>& words) {
    std::string s;
    for (const auto& w : words) {
        s += (s.empty() ? "" : " ") + w;
    }
    return s;
}

/// The loop that finds the command the cursor is in: skips option values, descends into
/// subcommands.
std::string scan_words(const std::vector<Scope>& scopes) {
    std::string s =
            "    local cmd=\"\" i w\n"
            "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
            "        w=${COMP_WORDS[i]}\n"
            "        case \"$cmd:$w\" in\n";
    for (const auto& sc : scopes) {
        auto valued = sc.file_options;
        valued.insert(valued.end(), sc.value_options.begin(), sc.value_options.end());
        if (!valued.empty()) {
            s += "            " + patterns(sc.path, valued) + ") ((i++)) ;;\n";
        }
        for (const auto& sub : sc.subcommands) {
            const std::string next = sc.path.empty() ? sub : sc.path + " " + sub;
            s += "            " + patterns(sc.path, {sub}) + ") cmd=\"" + next + "\" ;;\n";
        }
    }
    s += "        esac\n"
         "    done\n";
    return s;
}

/// What follows an option that takes a value, then the words of the command the cursor is in.
std::string complete_words(const std::vector<Scope>& scopes) {
    std::string s = "    case \"$cmd:$prev\" in\n";
    for (const auto& sc : scopes) {
        if (!sc.file_options.empty()) {
            s += "        " + patterns(sc.path, sc.file_options) +
                 ")\n            compopt -o filenames 2>/dev/null\n"
                 "            mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
                 "            return 0 ;;\n";
        }
        if (!sc.value_options.empty()) {
            s += "        " + patterns(sc.path, sc.value_options) + ") return 0 ;;\n";
        }
    }
    s += "    esac\n"
         "    local words=\"\"\n"
         "    case \"$cmd\" in\n";
    for (const auto& sc : scopes) {
        s += "        \"" + sc.path + "\") words=\"" + join(sc.words) + "\" ;;\n";
    }
    s += "    esac\n"
         "    mapfile -t COMPREPLY < <(compgen -W \"$words\" -- \"$cur\")\n";
    return s;
}

}  // namespace

std::string bash_completion(const CLI::App& app, const std::string& program) {
    std::vector<Scope> scopes;
    collect(app, "", scopes);
    const std::string& prog = program;
    std::string fn = "_" + prog;
    std::erase_if(fn, [](char c) { return c == '-' || c == '.'; });
    std::string s = "# bash completion for " + prog + ", generated by `" + prog +
                    " --completion bash` from its command-line definition: do not edit.\n";
    s += fn +
         "() {\n"
         "    local cur=${COMP_WORDS[COMP_CWORD]} prev=\"\"\n"
         "    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
         "    COMPREPLY=()\n";
    s += scan_words(scopes);
    s += complete_words(scopes);
    s += "}\ncomplete -F " + fn + " " + prog + "\n";
    return s;
}

void add_completion_option(CLI::App& app, const std::string& program) {
    CLI::App* root = &app;
    app.add_option_function<std::string>(
               "--completion",
               [root, program](const std::string& shell) {
                   if (shell != "bash") {
                       throw CLI::ValidationError("--completion", "only bash is supported");
                   }
                   std::cout << bash_completion(*root, program);
                   throw CLI::Success();
               },
               "print the shell completion script (bash)")
            ->group("");  // hidden: not in --help, not completed
}

}  // namespace ikeplex::apps
