# Third-party libraries (Debian 12 packages installed by scripts/setup-deps.sh; design.md §6).
find_package(OpenSSL 3.0 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)

if(IKEPLEX_BUILD_TESTS)
    find_package(GTest REQUIRED)
    find_package(rapidcheck REQUIRED)
endif()
if(IKEPLEX_BUILD_BENCH)
    find_package(benchmark REQUIRED)
endif()
