# Run by `cmake --install` (cmake/Install.cmake): the systemd unit, /etc/ikeplexd.conf (every key
# commented out with its default) and /etc/ikeplexd/swanctl/ (swanctl.conf including
# conf.d/*.conf, and swanctl's credential folders). The configuration is installed only where
# none exists: an operator's files and folders are never overwritten (the Debian package's are
# conffiles, which dpkg keeps in the same way). Paths follow the install-time prefix: /usr gets
# /etc and /lib/systemd/system (Debian 12's unit folder), another prefix <prefix>/etc and
# <prefix>/lib/systemd/system (systemd reads /usr/local/lib/systemd/system too).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(etc /etc)
    set(units /lib/systemd/system)
else()
    set(etc ${CMAKE_INSTALL_PREFIX}/etc)
    set(units ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()
if(NOT IKEPLEX_SYSTEMD_UNIT_DIR STREQUAL "")
    set(units ${IKEPLEX_SYSTEMD_UNIT_DIR})
endif()
set(packaging ${IKEPLEX_SOURCE_DIR}/packaging)

# The unit starts the installed daemon: /usr/sbin/ikeplexd for the prefix /usr.
# file(INSTALL) puts DESTDIR in front of its destination itself; the checks here must too.
file(READ ${packaging}/ikeplexd.service unit)
string(REPLACE "ExecStart=/usr/sbin/ikeplexd"
       "ExecStart=${CMAKE_INSTALL_PREFIX}/${IKEPLEX_SBINDIR}/ikeplexd" unit "${unit}")
file(WRITE ${IKEPLEX_BINARY_DIR}/ikeplexd.service "${unit}")
file(INSTALL ${IKEPLEX_BINARY_DIR}/ikeplexd.service DESTINATION ${units}
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

foreach(pair "ikeplexd.conf=ikeplexd.conf" "ikeplexd/swanctl/swanctl.conf=swanctl.conf")
    string(REPLACE "=" ";" pair "${pair}")
    list(GET pair 0 name)
    list(GET pair 1 from)
    if(EXISTS "$ENV{DESTDIR}${etc}/${name}")
        message(STATUS "Keeping: $ENV{DESTDIR}${etc}/${name} (exists)")
    else()
        get_filename_component(dir "${etc}/${name}" DIRECTORY)
        file(INSTALL ${packaging}/${from} DESTINATION ${dir}
             FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
    endif()
endforeach()

foreach(d conf.d x509 x509ca private rsa ecdsa pkcs8)
    set(path "$ENV{DESTDIR}${etc}/ikeplexd/swanctl/${d}")
    if(IS_DIRECTORY "${path}")
        continue()
    endif()
    message(STATUS "Installing: ${path}/")
    file(MAKE_DIRECTORY "${path}")
    if(d MATCHES "^(private|rsa|ecdsa|pkcs8)$")  # private keys: root only
        file(CHMOD "${path}" DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
    endif()
endforeach()
