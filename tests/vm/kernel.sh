#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) the 6.12 test kernel for one flavour and print the path of
# its build tree.  The tree is cached outside the repository, keyed by the
# kernel version and a hash of the config fragments, so a second run with the
# same inputs builds nothing.
#
# usage: kernel.sh base|debug
set -euo pipefail

flavour=${1:?usage: kernel.sh base|debug}
here=$(cd "$(dirname "$0")" && pwd)
cache=${LAB_CACHE:-${HOME:-/root}/.cache/labyrinth}
export CCACHE_DIR=${CCACHE_DIR:-$cache/ccache}
tarball=/usr/src/linux-source-6.12.tar.xz

log() { echo "  [kernel] $*" >&2; }

case $flavour in
base)	fragments=("$here/base.config") ;;
debug)	fragments=("$here/base.config" "$here/debug.config") ;;
*)	echo "kernel.sh: unknown flavour '$flavour'" >&2; exit 2 ;;
esac

debver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
src=$cache/src/linux-source-6.12-$debver
# Bump when the way the kernel is built changes.
recipe=1
key=$( (cat "${fragments[@]}"; echo "recipe $recipe") | sha256sum | cut -c1-12)
out=$cache/kernel-$debver-$flavour-$key

if [ -f "$out/.labyrinth-built" ]; then
	log "$flavour kernel cached: $out"
	echo "$out"
	exit 0
fi

if [ ! -f "$src/Makefile" ]; then
	log "unpacking linux-source-6.12 $debver"
	rm -rf "$src.tmp"
	mkdir -p "$src.tmp"
	tar -C "$src.tmp" -xf "$tarball" --strip-components=1
	mv "$src.tmp" "$src"
fi

mkdir -p "$out"
cat "${fragments[@]}" > "$out/fragments.config"
kmake() {
	make -C "$src" O="$out" ARCH=x86_64 CC="ccache gcc" \
		KBUILD_BUILD_TIMESTAMP=labyrinth KBUILD_BUILD_USER=labyrinth \
		KBUILD_BUILD_HOST=labyrinth "$@"
}

log "configuring $flavour: allnoconfig + ${fragments[*]##*/}"
kmake -s KCONFIG_ALLCONFIG="$out/fragments.config" allnoconfig >&2
kmake -s olddefconfig >&2

missing=0
while read -r line; do
	case $line in CONFIG_*=*) ;; *) continue ;; esac
	if ! grep -qx "$line" "$out/.config"; then
		echo "kernel.sh: requested option lost by olddefconfig: $line" >&2
		missing=1
	fi
done < "$out/fragments.config"
[ "$missing" = 0 ] || exit 1

log "building $flavour kernel in $out (ccache; about 7 minutes cold)"
kmake -j"$(nproc)" all > "$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	exit 1
}
touch "$out/.labyrinth-built"
log "$flavour kernel built"
echo "$out"
