// The file-system access the settings parser needs for `include`: expand a glob pattern and read
// a whole file. Injected so that tests and the fuzz target never touch the real file system.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "util/result.h"

namespace ikeplex::config {

/// Largest file the parser reads (a guard against `include /dev/zero` and the like).
inline constexpr std::size_t kMaxSettingsFileSize = std::size_t{16} * 1024 * 1024;

/// What the parser needs from a file system.
class FileSystem {
public:
    FileSystem() = default;
    FileSystem(const FileSystem&) = default;
    FileSystem& operator=(const FileSystem&) = default;
    FileSystem(FileSystem&&) = default;
    FileSystem& operator=(FileSystem&&) = default;
    virtual ~FileSystem() = default;

    /// Paths matching a shell glob pattern (glob(3) rules), sorted; empty when nothing matches
    /// (a pattern without wildcards matches the one path if it exists; a missing directory
    /// matches nothing). An error only when the expansion itself failed (e.g. a directory that
    /// cannot be read).
    [[nodiscard]] virtual Result<std::vector<std::string>> glob(
            const std::string& pattern) const = 0;

    /// The whole content of a file. Errors carry errno in Error::sys_errno where there is one.
    [[nodiscard]] virtual Result<std::string> read_file(const std::string& path) const = 0;
};

/// The process's real file system (glob(3), open(2)). Stateless; lives for the whole program.
const FileSystem& real_file_system();

/// An in-memory file system: a map from path to content. Paths are normalised lexically
/// ("a//./b/../c" is "a/c"), so a relative include from "dir/main.conf" finds "dir/x.conf".
/// glob() matches the stored paths with fnmatch(3) (FNM_PATHNAME | FNM_PERIOD), in path order.
class MemoryFileSystem final : public FileSystem {
public:
    /// Adds or replaces a file.
    void add(const std::string& path, std::string content);

    [[nodiscard]] Result<std::vector<std::string>> glob(const std::string& pattern) const override;
    [[nodiscard]] Result<std::string> read_file(const std::string& path) const override;

private:
    std::map<std::string, std::string> files_;
};

/// Lexical normalisation used by MemoryFileSystem: removes empty and "." components and folds
/// "x/.." pairs; keeps a leading "/" and leading ".." components.
std::string normalize_path(const std::string& path);

}  // namespace ikeplex::config
