#include "vectors.h"

#include <algorithm>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

namespace ikeplex::test {

namespace fs = std::filesystem;

fs::path source_dir() {
    return fs::path(IKEPLEX_SOURCE_DIR);
}

fs::path vector_path(const std::string& relative) {
    return source_dir() / "tests" / "vectors" / relative;
}

Bytes read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        ADD_FAILURE() << "cannot read " << path;
        return {};
    }
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Bytes read_vector(const std::string& relative) {
    return read_file(vector_path(relative));
}

std::string read_vector_text(const std::string& relative) {
    const Bytes b = read_vector(relative);
    return {b.begin(), b.end()};
}

std::vector<VectorMessage> all_vector_messages() {
    std::vector<VectorMessage> out;
    const fs::path root = vector_path("");
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        if (!entry.is_regular_file() || entry.path().extension() != ".bin" ||
            entry.path().parent_path().filename() != "messages") {
            continue;
        }
        VectorMessage m{fs::relative(entry.path(), root).string(), read_file(entry.path()), false};
        m.port_4500 = m.name.size() > 9 && m.name.compare(m.name.size() - 9, 9, ".4500.bin") == 0;
        // An IKE initiator SPI never starts with 32 zero bits in practice; the marker always does.
        if (m.bytes.size() >= 4 && m.bytes[0] == 0 && m.bytes[1] == 0 && m.bytes[2] == 0 &&
            m.bytes[3] == 0) {
            m.bytes.erase(m.bytes.begin(), m.bytes.begin() + 4);
            m.port_4500 = true;
        }
        out.push_back(std::move(m));
    }
    std::sort(out.begin(), out.end(),
              [](const VectorMessage& a, const VectorMessage& b) { return a.name < b.name; });
    return out;
}

}  // namespace ikeplex::test
