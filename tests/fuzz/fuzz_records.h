// Helpers shared by the engine fuzz targets: inputs as lists of records, seed files, and a
// default -max_len.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "fuzz_coverage.h"
#include "log_capture.h"
#include "util/bytes.h"

namespace ikeplex::fuzz {

/// One record of an input: [kind][length:2][data].
struct Record {
    std::uint8_t kind;
    Bytes data;
};

inline Bytes encode(const std::vector<Record>& records) {
    Bytes out;
    for (const Record& r : records) {
        out.push_back(r.kind);
        out.push_back(static_cast<std::uint8_t>(r.data.size() >> 8U));
        out.push_back(static_cast<std::uint8_t>(r.data.size()));
        out.insert(out.end(), r.data.begin(), r.data.end());
    }
    return out;
}

/// Calls `f(kind, data)` for each record of `in` (at most `max_records`; a record whose length
/// runs past the end gets what is left).
template <class F>
void for_each_record(ByteView in, int max_records, F&& f) {
    std::size_t pos = 0;
    int records = 0;
    while (pos + 3 <= in.size() && records++ < max_records) {
        const std::uint8_t kind = in[pos];
        const std::size_t len = std::min<std::size_t>(
                (std::size_t{in[pos + 1]} << 8U) | in[pos + 2], in.size() - pos - 3);
        f(kind, in.subspan(pos + 3, len));
        pos += 3 + len;
    }
}

inline void write_file(const std::string& path, const Bytes& bytes) {
    std::ofstream f(path, std::ios::binary);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): bytes to a stream
    f.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

/// Writes named seeds (lists of records) into `dir`.
inline void write_seeds(const std::string& dir,
                        const std::vector<std::pair<std::string, std::vector<Record>>>& seeds) {
    for (const auto& [name, records] : seeds) {
        write_file(dir + "/" + name, encode(records));
    }
}

/// Logging off (the exchange harness turns it on for every test), unless IKEPLEX_LOG is set:
/// then the engine's lines go to stderr, to follow one input.
inline void quiet_logs() {
    const char* env = std::getenv("IKEPLEX_LOG");
    if (env == nullptr || *env == '\0') {
        spdlog::set_level(spdlog::level::off);
    }
}

/// For LLVMFuzzerInitialize: adds `flag` (e.g. "-max_len=65536") to libFuzzer's arguments
/// unless one starting with the same "-name=" is there (libFuzzer parses them afterwards).
inline void default_flag(int* argc, char*** argv, const char* flag) {
    const char* eq = std::strchr(flag, '=');
    const std::size_t name_len = eq != nullptr ? static_cast<std::size_t>(eq - flag + 1) : 0;
    for (int i = 1; i < *argc; ++i) {
        if (std::strncmp((*argv)[i], flag, name_len) == 0) {
            return;
        }
    }
    // Lives for the whole process, as libFuzzer expects of argv.
    static std::vector<char*> args;
    args.assign(*argv, *argv + *argc);
    args.insert(args.begin() + 1, const_cast<char*>(flag));  // NOLINT: argv is char**
    args.push_back(nullptr);
    *argc += 1;
    *argv = args.data();
}

/// LLVMFuzzerInitialize of the engine targets: 64 KiB inputs unless told otherwise, logs off;
/// with IKEPLEX_FUZZ_SEEDS_OUT=dir, `write_seeds(dir)` writes the seed corpus and the process
/// exits.
inline void initialize_engine_target(int* argc, char*** argv,
                                     void (*write_seeds)(const std::string& dir)) {
    default_flag(argc, argv, "-max_len=65536");
    test::LogCapture::install();
    quiet_logs();
    if (const char* dir = std::getenv("IKEPLEX_FUZZ_SEEDS_OUT")) {
        write_seeds(dir);
        std::_Exit(0);
    }
}

}  // namespace ikeplex::fuzz
