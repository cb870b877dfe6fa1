#include "config/file_system.h"

#include <cerrno>
#include <utility>

#include <sys/stat.h>

#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <unistd.h>

#include "util/sys_error.h"
#include "util/unique_fd.h"

namespace ikeplex::config {
namespace {

/// Frees a glob_t when it goes out of scope.
class GlobHolder {
public:
    GlobHolder() = default;
    GlobHolder(const GlobHolder&) = delete;
    GlobHolder& operator=(const GlobHolder&) = delete;
    GlobHolder(GlobHolder&&) = delete;
    GlobHolder& operator=(GlobHolder&&) = delete;
    ~GlobHolder() { ::globfree(&g_); }
    glob_t* get() { return &g_; }

private:
    glob_t g_{};
};

/// errno of the first directory glob(3) could not read, other than a missing one.
thread_local int glob_failure = 0;

/// glob(3) error callback: a directory that does not exist just matches nothing (strongSwan's
/// `include conf.d/*.conf` without a conf.d); anything else (EACCES, EIO, ...) aborts the glob.
int on_glob_error(const char* /*path*/, int err) {
    if (err == ENOENT || err == ENOTDIR) {
        return 0;
    }
    glob_failure = err;
    return 1;
}

class RealFileSystem final : public FileSystem {
public:
    [[nodiscard]] Result<std::vector<std::string>> glob(const std::string& pattern) const override {
        GlobHolder holder;
        glob_failure = 0;
        const int rc = ::glob(pattern.c_str(), 0, on_glob_error, holder.get());
        std::vector<std::string> out;
        if (rc == GLOB_NOMATCH) {
            return out;
        }
        if (rc == GLOB_NOSPACE) {
            return sys_error("glob: out of memory", ENOMEM);
        }
        if (rc != 0) {
            return sys_error("glob: read error", glob_failure != 0 ? glob_failure : EIO);
        }
        out.reserve(holder.get()->gl_pathc);
        for (std::size_t i = 0; i < holder.get()->gl_pathc; ++i) {
            out.emplace_back(holder.get()->gl_pathv[i]);  // NOLINT: glob(3)'s C array
        }
        return out;
    }

    [[nodiscard]] Result<std::string> read_file(const std::string& path) const override {
        const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));  // NOLINT: POSIX varargs
        if (!fd) {
            return sys_error("open failed", errno);
        }
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) {
            return sys_error("fstat failed", errno);
        }
        if (S_ISDIR(st.st_mode)) {
            return sys_error("is a directory", EISDIR);
        }
        std::string content;
        char buf[16384];
        for (;;) {
            const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return sys_error("read failed", errno);
            }
            if (n == 0) {
                break;
            }
            if (content.size() + static_cast<std::size_t>(n) > kMaxSettingsFileSize) {
                return make_error(Errc::kTooLarge, "file larger than 16 MiB");
            }
            content.append(buf, static_cast<std::size_t>(n));
        }
        return content;
    }
};

}  // namespace

const FileSystem& real_file_system() {
    static const RealFileSystem fs;
    return fs;
}

std::string normalize_path(const std::string& path) {
    const bool absolute = !path.empty() && path.front() == '/';
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string::npos) {
            end = path.size();
        }
        std::string part = path.substr(start, end - start);
        start = end + 1;
        if (part.empty() || part == ".") {
            continue;
        }
        if (part == ".." && !parts.empty() && parts.back() != "..") {
            parts.pop_back();
            continue;
        }
        if (part == ".." && absolute) {
            continue;  // "/.." is "/"
        }
        parts.push_back(std::move(part));
    }
    std::string out = absolute ? "/" : "";
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) {
            out += '/';
        }
        out += parts[i];
    }
    if (out.empty()) {
        return ".";  // (assigning "." to out trips g++ 12's -Wrestrict, PR 105651)
    }
    return out;
}

void MemoryFileSystem::add(const std::string& path, std::string content) {
    files_[normalize_path(path)] = std::move(content);
}

Result<std::vector<std::string>> MemoryFileSystem::glob(const std::string& pattern) const {
    const std::string normal = normalize_path(pattern);
    std::vector<std::string> out;
    for (const auto& [path, content] : files_) {
        if (::fnmatch(normal.c_str(), path.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0) {
            out.push_back(path);
        }
    }
    return out;
}

Result<std::string> MemoryFileSystem::read_file(const std::string& path) const {
    const auto it = files_.find(normalize_path(path));
    if (it == files_.end()) {
        return sys_error("no such file", ENOENT);
    }
    return it->second;
}

}  // namespace ikeplex::config
