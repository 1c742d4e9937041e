#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) a test kernel and print the path of its build tree.
#
#   build.sh FLAVOUR [VERSION]
#
# FLAVOUR is base, debug (base + debug.config), rt (base + rt.config) or
# net (base + net.config: the network clients' drivers);
# VERSION is 6.12 (Debian 12's linux-source-6.12, the default) or 7.3
# (linux-source-7.3 from Debian 13 backports, downloaded with a private apt
# configuration: the host's own apt setup is not touched).
#
# The tree is cached outside the repository, keyed by the kernel's Debian
# version and a hash of the config fragments and of this script (the build
# recipe): a second run with the same inputs builds nothing, a changed
# recipe never reuses a stale tree.  Older trees of the same version and
# flavour are removed; ccache is capped.
set -euo pipefail

flavour=${1:?usage: build.sh base|debug|rt|net [6.12|7.3]}
version=${2:-6.12}
here=$(cd "$(dirname "$0")" && pwd)
cache=${LAB_CACHE:-${HOME:-/root}/.cache/labyrinth}
export CCACHE_DIR=${CCACHE_DIR:-$cache/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}

log() { echo "  [kernel] $*" >&2; }
die() { echo "kernel/build.sh: $*" >&2; exit 1; }

case $flavour in
base|debug|rt|net) ;;
*)	die "unknown flavour '$flavour'" ;;
esac
fragments=("$here/base.config")
[ "$flavour" = base ] || fragments+=("$here/$flavour.config")
mkdir -p "$cache/src" || die "cannot create $cache/src"

# The first URIs: of the host's deb822 apt sources, else of sources.list.
debian_mirror() {
	local m

	m=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' \
		/etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
	[ -n "$m" ] || m=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++)
		if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
		/etc/apt/sources.list 2>/dev/null)
	[ -n "$m" ] || die "no Debian mirror in the host's apt sources"
	echo "$m"
}

# linux-source-7.3 from trixie-backports into $cache/deb; sets tarball and
# debver.
fetch_source_73() {
	local dir=$cache/deb apt deb

	mkdir -p "$dir"
	deb=$(find "$dir" -maxdepth 1 -name 'linux-source-7.3_*_all.deb' |
	      sort -V | tail -n 1)
	if [ -z "$deb" ]; then
		log "downloading linux-source-7.3 from trixie-backports"
		mkdir -p "$dir/lists/partial"
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(debian_mirror) trixie-backports main" \
			> "$dir/sources.list"
		apt=(-o Dir::Etc::sourcelist="$dir/sources.list"
		     -o Dir::Etc::sourceparts=/dev/null
		     -o Dir::State::Lists="$dir/lists"
		     -o Dir::Cache::pkgcache="$dir/pkgcache.bin"
		     -o Dir::Cache::srcpkgcache="$dir/srcpkgcache.bin"
		     -o Debug::NoLocking=1)
		apt-get "${apt[@]}" -qq update >&2 ||
			die "apt-get update of trixie-backports failed"
		(cd "$dir" && apt-get "${apt[@]}" -qq download linux-source-7.3) >&2 ||
			die "apt-get download linux-source-7.3 failed"
		deb=$(find "$dir" -maxdepth 1 -name 'linux-source-7.3_*_all.deb' |
		      sort -V | tail -n 1)
		[ -n "$deb" ] || die "no linux-source-7.3 package in $dir"
	fi
	debver=$(dpkg-deb -f "$deb" Version)
	tarball=$dir/linux-source-7.3-$debver.tar.xz
	if [ ! -f "$tarball" ]; then
		dpkg-deb --fsys-tarfile "$deb" |
			tar -xO ./usr/src/linux-source-7.3.tar.xz > "$tarball.tmp" ||
			die "no linux-source-7.3.tar.xz in $deb"
		mv "$tarball.tmp" "$tarball"
	fi
}

case $version in
6.12)
	tarball=/usr/src/linux-source-6.12.tar.xz
	[ -r "$tarball" ] || die "no $tarball (Debian package linux-source-6.12)"
	debver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	;;
7.3)	fetch_source_73 ;;
*)	die "unknown version '$version'" ;;
esac

src=$cache/src/linux-source-$version-$debver
key=$(cat "${fragments[@]}" "$0" | sha256sum | cut -c1-12)
out=$cache/kernel-$version-$debver-$flavour-$key

if [ -f "$out/.labyrinth-built" ]; then
	log "$version $flavour kernel cached: $out"
	echo "$out"
	exit 0
fi

for old in "$cache"/kernel-"$version"-*-"$flavour"-* \
	   "$cache"/src/linux-source-"$version"-*; do
	if [ ! -d "$old" ] || [ "$old" = "$out" ] || [ "$old" = "$src" ]; then
		continue
	fi
	log "removing stale ${old##*/}"
	rm -rf "$old"
done

if [ ! -f "$src/Makefile" ]; then
	log "unpacking linux-source-$version $debver"
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

log "configuring $version $flavour: allnoconfig + ${fragments[*]##*/}"
kmake -s KCONFIG_ALLCONFIG="$out/fragments.config" allnoconfig >&2
kmake -s olddefconfig >&2

# Every option the fragments ask for (the last word on each wins) survived.
missing=0
while read -r want; do
	sym=${want%%=*}
	sym=${sym#\# }
	sym=${sym% is not set}
	if [[ $want == \#* ]]; then
		grep -q "^$sym=" "$out/.config" || continue
	elif grep -qx "$want" "$out/.config"; then
		continue
	fi
	echo "kernel/build.sh: requested option lost by olddefconfig: $want" >&2
	missing=1
done < <(grep -E '^CONFIG_|^# CONFIG_.* is not set' "$out/fragments.config" |
	 awk '{ k = $1 == "#" ? $2 : substr($1, 1, index($1, "=") - 1);
		v[k] = $0; if (!(k in o)) { o[k] = n++; ks[n - 1] = k } }
	      END { for (i = 0; i < n; i++) print v[ks[i]] }')
[ "$missing" = 0 ] || exit 1

log "building $version $flavour kernel in $out (ccache; about 7 minutes cold)"
kmake -j"$(nproc)" all > "$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	exit 1
}
touch "$out/.labyrinth-built"
log "$version $flavour kernel built"
echo "$out"
