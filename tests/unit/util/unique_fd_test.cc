#include "util/unique_fd.h"

#include <cerrno>
#include <type_traits>
#include <utility>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "util/sys_error.h"

namespace ikeplex {
namespace {

static_assert(!std::is_copy_constructible_v<UniqueFd>);
static_assert(!std::is_copy_assignable_v<UniqueFd>);
static_assert(std::is_nothrow_move_constructible_v<UniqueFd>);
static_assert(std::is_nothrow_move_assignable_v<UniqueFd>);

/// True while `fd` names an open descriptor of this process.
bool is_open(int fd) {
    return ::fcntl(fd, F_GETFD) != -1;
}

int open_null() {
    return ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // NOLINT: POSIX varargs
}

TEST(UniqueFd, EmptyByDefault) {
    const UniqueFd fd;
    EXPECT_FALSE(fd.valid());
    EXPECT_FALSE(fd);
    EXPECT_EQ(fd.get(), -1);
    const UniqueFd failed(-1);
    EXPECT_FALSE(failed);
}

TEST(UniqueFd, ClosesWhenDestroyed) {
    int raw = -1;
    {
        const UniqueFd fd(open_null());
        ASSERT_TRUE(fd);
        raw = fd.get();
        EXPECT_TRUE(is_open(raw));
    }
    EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFd, MoveTransfersOwnership) {
    UniqueFd a(open_null());
    ASSERT_TRUE(a);
    const int raw = a.get();
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from state is specified
    EXPECT_EQ(b.get(), raw);
    UniqueFd c(open_null());
    const int other = c.get();
    c = std::move(b);
    EXPECT_EQ(c.get(), raw);
    EXPECT_FALSE(is_open(other));  // the descriptor c held before was closed
    EXPECT_TRUE(is_open(raw));
}

TEST(UniqueFd, ReleaseAndReset) {
    UniqueFd fd(open_null());
    const int raw = fd.release();
    EXPECT_FALSE(fd);
    EXPECT_TRUE(is_open(raw));  // released: not closed
    fd.reset(raw);
    EXPECT_EQ(fd.get(), raw);
    fd.reset();
    EXPECT_FALSE(fd);
    EXPECT_FALSE(is_open(raw));
}

TEST(SysError, CarriesErrno) {
    errno = EBADF;
    const Error e = sys_error("close");
    EXPECT_EQ(e.code, Errc::kSystem);
    EXPECT_EQ(e.sys_errno, EBADF);
    EXPECT_EQ(sys_error("x", ENOENT).sys_errno, ENOENT);
}

}  // namespace
}  // namespace ikeplex
