// Test vectors inside the repository (tests/vectors/): file access and the list of every real
// IKE message recorded from strongSwan.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "util/bytes.h"

namespace ikeplex::test {

/// The repository's top directory (the only translation unit that knows it is vectors.cc, so a
/// fresh clone elsewhere still hits the compiler cache for every other test source).
std::filesystem::path source_dir();
/// Absolute path of a file under tests/vectors/.
std::filesystem::path vector_path(const std::string& relative);
/// Contents of a file under tests/vectors/ (fails the calling test if unreadable).
Bytes read_vector(const std::string& relative);
/// Contents of any file.
Bytes read_file(const std::filesystem::path& path);
/// Text of a file under tests/vectors/.
std::string read_vector_text(const std::string& relative);

struct VectorMessage {
    std::string name;       ///< e.g. "strongswan-6.0.6-per-cpu/messages/03-ike_auth-req.bin"
    Bytes bytes;            ///< the IKE message (a non-ESP marker in the file is removed)
    bool port_4500{false};  ///< sent on port 4500 (the file had, or its name says, a marker)
};
/// Every recorded IKE message (all tests/vectors/**/messages/*.bin), sorted by name.
/// Files hold a UDP payload; those of port 4500 start with the RFC 3948 non-ESP marker (four
/// zero bytes) unless their name ends in ".4500.bin", which says it was stripped.
std::vector<VectorMessage> all_vector_messages();

}  // namespace ikeplex::test
