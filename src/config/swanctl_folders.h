// swanctl --load-all's credential folders (internal to the swanctl mapping): every file of
// `<base>/<folder>/` read and handed to the folder's loader, which loads it, fails it (an error
// at the file) or seals it (it needs a passphrase: kept until a secrets section opens it).
#pragma once

#include <filesystem>
#include <set>
#include <string>

#include "config/swanctl.h"
#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex::config {

/// What a folder's loader did with a file it did not fail.
enum class FolderFile {
    kLoaded,
    kSealed,  ///< needs a passphrase: its path waits in `sealed` for a secrets section
};

/// The normal form of a credential file's path, so a folder's file and a secret's `file`
/// compare equal.
inline std::string normal_path(const std::string& path) {
    return std::filesystem::path(path).lexically_normal().string();
}

/// Hands every file of `<base>/<folder>/` to `load(const Bytes& data, const std::string& path)
/// -> Result<FolderFile>`. An unreadable file and a load's error are errors at the file; a
/// sealed file's normal path goes to `sealed` (given by the folders whose loader seals). No
/// base, or no folder: nothing.
template <class F>
void load_folder(const std::string& base, const std::string& folder, Findings& findings,
                 const FileSystem& fs, F&& load, std::set<std::string>* sealed = nullptr) {
    if (base.empty()) {
        return;
    }
    auto files = fs.glob(base + "/" + folder + "/*");
    if (!files) {
        return;
    }
    for (const std::string& path : *files) {
        auto data = fs.read_file(path);
        if (!data) {
            findings.errors.push_back(Diagnostic{
                    SourcePos{path, 0}, std::string("cannot read: ") + data.error().detail});
            continue;
        }
        auto done = load(Bytes(data->begin(), data->end()), path);
        if (!done) {
            findings.errors.push_back(Diagnostic{SourcePos{path, 0}, done.error().detail});
        } else if (*done == FolderFile::kSealed && sealed != nullptr) {
            sealed->insert(normal_path(path));
        }
    }
}

}  // namespace ikeplex::config
