#!/usr/bin/env bash
# Builds the Debian package from an existing release build and checks it with lintian
# (docs/packaging.md):
#   scripts/package.sh [BUILD_DIR]      BUILD_DIR: default build/release
# Build it first: cmake --preset release && cmake --build --preset release
# Nothing is compiled again: debian/rules installs the build's files (`cmake --install`), and
# debhelper strips them, compresses the man pages and the changelog, writes md5sums, conffiles,
# the dependencies (dpkg-shlibdeps) and the systemd maintainer scripts. The package lands in
# BUILD_DIR/deb/; its path is the last line printed. Exits non-zero when the build is missing,
# debian/changelog's version differs from CMake's, or lintian reports an error or a warning
# that is not overridden (debian/ikeplex.lintian-overrides, each with its reason).
set -euo pipefail

cd "$(dirname "$0")/.."
build=$(realpath -m "${1:-build/release}")
if [ ! -f "$build/CMakeCache.txt" ]; then
    echo "package: no CMake build in $build (cmake --preset release && cmake --build --preset release)" >&2
    exit 1
fi
# Up to date (the git revision, the completion); a no-op after the release build.
cmake --build "$build" --target ikeplexd ikeplex ikeplex_completion > /dev/null

cmake_version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
deb_version=$(dpkg-parsechangelog -l debian/changelog -S Version)
if [ "${deb_version%-*}" != "$cmake_version" ]; then
    echo "package: debian/changelog has $deb_version, CMake's project version is $cmake_version" >&2
    exit 1
fi

# dpkg-buildpackage writes its results beside the source folder: a staging copy of debian/
# under the build folder keeps the tree clean.
out="$build/deb"
rm -rf "$out"
mkdir -p "$out/ikeplex-$cmake_version"
cp -r debian "$out/ikeplex-$cmake_version/"
(
    cd "$out/ikeplex-$cmake_version"
    IKEPLEX_BUILD_DIR="$build" DEB_BUILD_OPTIONS=noddebs \
        dpkg-buildpackage -b -us -uc --no-pre-clean > "$out/build.log" 2>&1 || {
        cat "$out/build.log" >&2
        echo "package: dpkg-buildpackage failed" >&2
        exit 1
    }
)
deb="$out/ikeplex_${deb_version}_$(dpkg-architecture -qDEB_HOST_ARCH).deb"
[ -f "$deb" ] || { echo "package: $deb was not made" >&2; exit 1; }

echo "--- lintian $(basename "$deb")"
lintian --fail-on error,warning --display-info "$deb"
echo "--- contents"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
dpkg-deb --contents "$deb" | awk '{print $1, $6}'
echo "$deb"
