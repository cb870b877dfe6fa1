// Reading swanctl.conf values: each key of a section is handled exactly once, through a table
// of handlers; keys nobody handles are reported. Shared by the connection, child and secret
// mappings.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.h"
#include "config/swanctl.h"
#include "ike/config.h"

namespace ikeplex::config {

/// The path of a key for messages: "connections.t.children.net.mode".
std::string key_path(std::string_view prefix, std::string_view name);

/// Reports into a Findings with a position and a path prefix.
class Reporter {
public:
    Reporter(Findings& f, std::string prefix) : findings_(f), prefix_(std::move(prefix)) {}
    void error(const SourcePos& pos, std::string_view key, std::string_view what);
    void warning(const SourcePos& pos, std::string_view key, std::string_view what);
    [[nodiscard]] std::size_t errors() const noexcept { return findings_.errors.size(); }
    [[nodiscard]] const std::string& prefix() const noexcept { return prefix_; }
    [[nodiscard]] Findings& findings() noexcept { return findings_; }

private:
    Findings& findings_;
    std::string prefix_;
};

/// A key's handler: gets the value (never nullopt: unset keys are skipped) and its setting.
using Handler = std::function<void(std::string_view value, const Setting& s)>;

/// Runs the handler of every setting of `section`; settings without a handler are errors
/// ("unknown key"), unless `unsupported` names them: then that message is the error.
void apply_settings(const Section& section,
                    const std::map<std::string, Handler, std::less<>>& handlers, Reporter& r);

using Handlers = std::map<std::string, Handler, std::less<>>;

// Handler factories. The Reporter and the output must outlive the handler.

/// Accepts only the values listed (what ikeplex does); anything else is an error with `why`.
Handler only(Reporter& r, std::vector<std::string> accepted, std::string why);
/// A key ikeplex does not implement whose absence changes nothing the operator relies on: a
/// warning that it is ignored.
Handler ignored(Reporter& r, std::string why);
/// A key ikeplex does not implement at all: an error.
Handler unsupported(Reporter& r, std::string why);
/// strongSwan durations (see parse_duration).
Handler duration(Reporter& r, ike::Duration& out);
Handler duration(Reporter& r, std::optional<ike::Duration>& out);
Handler number(Reporter& r, std::uint64_t& out);
Handler number(Reporter& r, std::optional<std::uint64_t>& out);
/// yes/no.
Handler flag(Reporter& r, bool& out);
/// A proposal list for IKE or ESP; "default" expands to ikeplex's defaults.
Handler proposals(Reporter& r, std::vector<wire::Proposal>& out, wire::ProtocolId protocol);

/// Comma-separated list, items trimmed, empty items dropped.
std::vector<std::string> split_list(std::string_view value);
/// yes/no/true/false/1/0 (strongSwan's settings_value_as_bool).
std::optional<bool> parse_bool(std::string_view value);
std::optional<std::uint64_t> parse_u64(std::string_view value);

}  // namespace ikeplex::config
