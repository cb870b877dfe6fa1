# Compiler caching (docs/testing.md, "Build time"): every compile goes through ccache when it is
# installed, with its cache outside the clone (ccache's default, ~/.cache/ccache, or CCACHE_DIR).
# A fresh clone at another path still hits the cache: paths under the source tree are rewritten
# relative to it (base_dir) and the build directory is not hashed (hash_dir = false; debug info
# then names build-relative paths, which gdb resolves from the build directory).
# -DIKEPLEX_CCACHE=OFF, or CCACHE_DISABLE=1 in the environment, builds without it.
if(IKEPLEX_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
    find_program(IKEPLEX_CCACHE_PROGRAM ccache)
    if(IKEPLEX_CCACHE_PROGRAM)
        find_program(IKEPLEX_ENV_PROGRAM env REQUIRED)
        set(CMAKE_CXX_COMPILER_LAUNCHER
            ${IKEPLEX_ENV_PROGRAM} CCACHE_BASEDIR=${PROJECT_SOURCE_DIR} CCACHE_NOHASHDIR=1
            ${IKEPLEX_CCACHE_PROGRAM})
        message(STATUS "ccache: ${IKEPLEX_CCACHE_PROGRAM}")
    else()
        message(STATUS "ccache: not found, compiling without a cache")
    endif()
endif()
