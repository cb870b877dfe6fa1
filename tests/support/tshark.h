// Runs Wireshark's tshark as an independent IKEv2 decoder over pcap files our tests write.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ikeplex::test {

/// Path of tshark, or empty when the build did not find it.
std::string tshark_path();

/// `tshark -r pcap -T json [args]` with WIRESHARK_CONFIG_DIR set to `config_dir` when given
/// (for ikev2_decryption_table). Returns the JSON text; fails the calling test on a non-zero exit.
std::string tshark_json(const std::filesystem::path& pcap, const std::vector<std::string>& args,
                        const std::filesystem::path& config_dir = {});

/// Problems tshark reports in its JSON: malformed packets and expert infos of severity
/// warning or error, each as "frame N: message".
std::vector<std::string> tshark_problems(const std::string& json);

/// Number of occurrences of `needle` in `haystack`.
std::size_t count_occurrences(const std::string& haystack, const std::string& needle);

/// A fresh temporary directory, removed when the object goes away.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace ikeplex::test
