# Third-party libraries (Debian 12 packages installed by scripts/setup-deps.sh; design.md §6).
find_package(OpenSSL 3.0 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
# ikeplexd's Prometheus endpoint (src/daemon/metrics.cc): prometheus-cpp-dev's pull library.
find_package(prometheus-cpp CONFIG REQUIRED)
# libsystemd: sd_notify and sd_journal_sendv (ikeplexd's systemd support).
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
# libcurl (libcurl4-openssl-dev): the daemon's revocation fetcher (src/daemon/http_fetcher.cc).
find_package(CURL REQUIRED)

if(IKEPLEX_BUILD_TESTS)
    find_package(GTest REQUIRED)
    find_package(rapidcheck REQUIRED)
endif()
if(IKEPLEX_BUILD_BENCH)
    find_package(benchmark REQUIRED)
endif()

# Standalone Asio (header-only; its headers do not pass our warnings: a system include).
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
find_package(Threads REQUIRED)
add_library(ikeplex_asio INTERFACE)
target_include_directories(ikeplex_asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
target_compile_definitions(ikeplex_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
target_link_libraries(ikeplex_asio INTERFACE Threads::Threads)

find_package(CLI11 REQUIRED)
