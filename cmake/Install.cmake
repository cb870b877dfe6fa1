# Install rules (docs/packaging.md): `cmake --install build/release [--prefix /usr]`, and the
# Debian package's debian/rules. Only the two programs and what an operator needs with them; the
# benchmarks, the load generators and the tests are never installed.
include(GNUInstallDirs)

# Debian 12 keeps units in /lib/systemd/system; another prefix gets <prefix>/lib/systemd/system,
# which systemd also reads for /usr/local.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(_unit_dir /lib/systemd/system)
else()
    set(_unit_dir ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()
set(IKEPLEX_SYSTEMD_UNIT_DIR ${_unit_dir} CACHE PATH "Where ikeplexd.service is installed")

install(TARGETS ikeplexd RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES docs/man/ikeplexd.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES packaging/ikeplexd.service DESTINATION ${IKEPLEX_SYSTEMD_UNIT_DIR})
if(TARGET ikeplex)
    install(TARGETS ikeplex RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
    install(FILES docs/man/ikeplex.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
    install(FILES ${PROJECT_BINARY_DIR}/share/bash-completion/completions/ikeplex
            DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
endif()

# Configuration: /etc/ikeplexd.conf (every key commented out with its default) and
# /etc/ikeplexd/swanctl/ (swanctl.conf including conf.d/*.conf, and swanctl's credential
# folders), each only where none exists: an operator's files are never overwritten (the Debian
# package's are conffiles, which dpkg keeps in the same way). /etc for the prefix /usr
# (GNUInstallDirs), <prefix>/etc otherwise.
set(_etc ${CMAKE_INSTALL_FULL_SYSCONFDIR})
install(CODE "
    set(etc \"\$ENV{DESTDIR}${_etc}\")
    foreach(pair \"ikeplexd.conf=${PROJECT_SOURCE_DIR}/packaging/ikeplexd.conf\"
                 \"ikeplexd/swanctl/swanctl.conf=${PROJECT_SOURCE_DIR}/packaging/swanctl.conf\")
        string(REPLACE \"=\" \";\" pair \"\${pair}\")
        list(GET pair 0 name)
        list(GET pair 1 from)
        if(EXISTS \"\${etc}/\${name}\")
            message(STATUS \"Keeping: \${etc}/\${name} (exists)\")
        else()
            get_filename_component(dir \"\${etc}/\${name}\" DIRECTORY)
            file(INSTALL \"\${from}\" DESTINATION \"\${dir}\"
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
        endif()
    endforeach()
    foreach(d conf.d x509 x509ca private rsa ecdsa pkcs8)
        set(path \"\${etc}/ikeplexd/swanctl/\${d}\")
        if(NOT IS_DIRECTORY \"\${path}\")
            message(STATUS \"Installing: \${path}/\")
            file(MAKE_DIRECTORY \"\${path}\")
            if(d MATCHES \"^(private|rsa|ecdsa|pkcs8)$\")  # private keys: root only
                file(CHMOD \"\${path}\" DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
            endif()
        endif()
    endforeach()
")
