// sys_error: the Error of a failed system call (Errc::kSystem with its errno in sys_errno).
#pragma once

#include <cerrno>

#include "util/result.h"

namespace ikeplex {

/// Error{kSystem, detail} with `err` in sys_errno. The default takes errno, so call it right
/// after the call that failed.
inline Error sys_error(const char* detail, int err = errno) noexcept {
    Error e = make_error(Errc::kSystem, detail);
    e.sys_errno = err;
    return e;
}

}  // namespace ikeplex
