# Install rules (docs/packaging.md): `cmake --install build/release [--prefix /usr]`, and the
# Debian package's debian/rules. Only the two programs and what an operator needs with them; the
# benchmarks, the load generators and the tests are never installed.
include(GNUInstallDirs)

install(TARGETS ikeplexd RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES docs/man/ikeplexd.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
if(TARGET ikeplex)
    install(TARGETS ikeplex RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
    install(FILES docs/man/ikeplex.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
    install(FILES ${PROJECT_BINARY_DIR}/share/bash-completion/completions/ikeplex
            DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
endif()

# The unit and the configuration (cmake/InstallConfig.cmake, at install time, so that
# `cmake --install --prefix /usr` of a tree configured for /usr/local still puts them in /etc and
# /lib/systemd/system). IKEPLEX_SYSTEMD_UNIT_DIR, when set, is where the unit goes.
set(IKEPLEX_SYSTEMD_UNIT_DIR "" CACHE PATH
    "Where ikeplexd.service is installed (empty: /lib/systemd/system for the prefix /usr, else <prefix>/lib/systemd/system)")
install(CODE "set(IKEPLEX_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
set(IKEPLEX_BINARY_DIR \"${PROJECT_BINARY_DIR}\")
set(IKEPLEX_SBINDIR \"${CMAKE_INSTALL_SBINDIR}\")
set(IKEPLEX_SYSTEMD_UNIT_DIR \"${IKEPLEX_SYSTEMD_UNIT_DIR}\")")
install(SCRIPT cmake/InstallConfig.cmake)
