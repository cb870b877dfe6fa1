// What `ikeplex` says for a command it does not know (cli/usage.h).
#include "cli/usage.h"

#include <sstream>

#include <gtest/gtest.h>

namespace ikeplex::cli {
namespace {

const std::vector<CommandHelp> kCommands{{"list-sas", "IKE and Child SAs"},
                                         {"list-conns", "loaded connections"},
                                         {"list-certs", "loaded certificates"},
                                         {"stats", "daemon statistics"}};

TEST(Usage, EditDistanceCountsASwapAsOne) {
    EXPECT_EQ(edit_distance("lsit-sas", "list-sas"), 1U);
    EXPECT_EQ(edit_distance("list-sa", "list-sas"), 1U);
    EXPECT_EQ(edit_distance("stats", "stats"), 0U);
    EXPECT_EQ(edit_distance("", "abc"), 3U);
    EXPECT_EQ(edit_distance("kitten", "sitting"), 3U);
}

TEST(Usage, NearestCommandOnlyForATypo) {
    EXPECT_EQ(nearest_command("lsit-sas", kCommands), "list-sas");
    EXPECT_EQ(nearest_command("list-cert", kCommands), "list-certs");
    EXPECT_EQ(nearest_command("stat", kCommands), "stats");
    EXPECT_EQ(nearest_command("frobnicate", kCommands), "");
    EXPECT_EQ(nearest_command("ls", kCommands), "");  // two edits of a two-letter word: no
}

TEST(Usage, UnknownCommandMessage) {
    std::ostringstream err;
    print_unknown_command("lsit-sas", kCommands, err);
    const std::string text = err.str();
    EXPECT_EQ(text.substr(0, text.find('\n')),
              "ikeplex: unknown command 'lsit-sas' (did you mean 'list-sas'?)");
    for (const auto& [name, help] : kCommands) {
        EXPECT_NE(text.find("  " + name), std::string::npos) << text;
    }
    std::ostringstream none;
    print_unknown_command("", kCommands, none);
    EXPECT_EQ(none.str().substr(0, none.str().find('\n')), "ikeplex: a command is required");
}

}  // namespace
}  // namespace ikeplex::cli
