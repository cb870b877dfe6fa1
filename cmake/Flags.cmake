# Compiler flags shared by every ikeplex target.

# Warnings for our own code only (third-party headers come in as system includes).
set(IKEPLEX_WARNINGS
    -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast)
if(IKEPLEX_WERROR)
    list(APPEND IKEPLEX_WARNINGS -Werror)
endif()
# g++ 12 at -O2 reports out-of-bounds memcpy inside libstdc++'s vector::insert that cannot
# happen (GCC bugs 105545, 107852); clang and ASan keep checking the real thing.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    list(APPEND IKEPLEX_WARNINGS -Wno-array-bounds -Wno-stringop-overflow -Wno-stringop-overread)
endif()

if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    add_link_options(-fuse-ld=lld)
endif()

# Sanitizers apply to everything we compile, so the libraries linked into tests and fuzzers
# are checked too. -fno-sanitize-recover=all makes UBSan abort instead of reporting and going on
# (tests/unit/util/sanitizer_canary_test.cc proves it).
if(IKEPLEX_SANITIZE)
    list(JOIN IKEPLEX_SANITIZE "," _ikeplex_san)
    add_compile_options(-fsanitize=${_ikeplex_san} -fno-omit-frame-pointer)
    add_link_options(-fsanitize=${_ikeplex_san})
    if(NOT IKEPLEX_SANITIZE STREQUAL "thread")
        add_compile_options(-fno-sanitize-recover=all)
    endif()
endif()

# libFuzzer: only the libraries a fuzz target links get coverage instrumentation
# (-fsanitize=fuzzer-no-link, applied by tests/fuzz/CMakeLists.txt once every target exists);
# tests, the daemon and the apps compile without it. Fuzz targets compile and link with
# -fsanitize=fuzzer.
if(IKEPLEX_FUZZ AND NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "IKEPLEX_FUZZ needs clang (libFuzzer)")
endif()

# ikeplex_apply_warnings(target): our warning set on one of our targets.
function(ikeplex_apply_warnings target)
    target_compile_options(${target} PRIVATE ${IKEPLEX_WARNINGS})
endfunction()
