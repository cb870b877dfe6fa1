# The ESP packet layer (design.md §2): replay window, per-SA crypto, ESP encap/decap.
# Pure code: no I/O, no threads; the workers and SA tables are built on top of it.
add_library(ikeplex_esp STATIC
    ${CMAKE_CURRENT_SOURCE_DIR}/esp_codec.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/replay_window.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/sa_crypto.cc
)
target_link_libraries(ikeplex_esp PUBLIC ikeplex_crypto)
ikeplex_apply_warnings(ikeplex_esp)
