#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the patched network drivers out of tree.
#
#   clients/build.sh VERSION KDIR LABDIR OUT
#
# VERSION is the Debian kernel source the drivers come from: 6.12
# (linux-source-6.12, the test kernels' source) or 6.1 (linux-source-6.1 at
# the version of the Debian kernel KDIR belongs to, DISTRO_DEBVER in the
# environment or else the installed linux-image's, downloaded into the
# cache with apt-get download: nothing is installed).  KDIR is the kernel
# build tree, LABDIR a labyrinth tree built against it (its labyrinth.h and
# Module.symvers).  The drivers' sources are unpacked alone into the cache,
# each client's patch (clients/DRIVER/DRIVER-VERSION.patch) is applied to a
# copy in OUT/DRIVER, and OUT/DRIVER/DRIVER.ko is built there, W=1.
set -euo pipefail

version=${1:?usage: build.sh 6.12|6.1 KDIR LABDIR OUT}
kdir=${2:?usage: build.sh 6.12|6.1 KDIR LABDIR OUT}
labdir=${3:?usage: build.sh 6.12|6.1 KDIR LABDIR OUT}
out=${4:?usage: build.sh 6.12|6.1 KDIR LABDIR OUT}
here=$(cd "$(dirname "$0")" && pwd)
cache=${LAB_CACHE:-${HOME:-/root}/.cache/labyrinth}

log() { echo "  [clients] $*" >&2; }
die() { echo "clients/build.sh: $*" >&2; exit 1; }

# Where each driver's files live in the kernel source.
declare -A files=(
	[e1000]=drivers/net/ethernet/intel/e1000
	[virtio_net]=drivers/net/virtio_net.c
)

[ -f "$labdir/Module.symvers" ] || die "no $labdir/Module.symvers: build labyrinth first"

# The source tarball of VERSION; sets tarball and debver.
case $version in
6.12)
	tarball=/usr/src/linux-source-6.12.tar.xz
	[ -r "$tarball" ] || die "no $tarball (Debian package linux-source-6.12)"
	debver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	;;
6.1)
	kver=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' \
		"$kdir/include/generated/utsrelease.h")
	debver=${DISTRO_DEBVER:-$(dpkg-query -W -f='${Version}' \
		"linux-image-$kver" 2>/dev/null)} ||
		die "no Debian package linux-image-$kver: which 6.1 source?"
	dir=$cache/deb
	tarball=$dir/linux-source-6.1-$debver.tar.xz
	if [ ! -f "$tarball" ]; then
		mkdir -p "$dir"
		deb=$dir/linux-source-6.1_${debver}_all.deb
		if [ ! -f "$deb" ]; then
			log "downloading linux-source-6.1 $debver"
			(cd "$dir" && apt-get -qq download "linux-source-6.1=$debver") >&2 ||
				die "apt-get download linux-source-6.1=$debver failed"
		fi
		dpkg-deb --fsys-tarfile "$deb" |
			tar -xO ./usr/src/linux-source-6.1.tar.xz > "$tarball.tmp" ||
			die "no linux-source-6.1.tar.xz in $deb"
		mv "$tarball.tmp" "$tarball"
	fi
	;;
*)	die "unknown version '$version'" ;;
esac

src=$cache/src/drivers-$version-$debver
if [ ! -d "$src" ]; then
	log "unpacking the drivers of linux-source-$version $debver"
	rm -rf "$src.tmp"
	mkdir -p "$src.tmp"
	tar -C "$src.tmp" -xf "$tarball" --strip-components=1 \
		--wildcards "${files[@]/#/*/}"
	mv "$src.tmp" "$src"
fi

for drv in e1000 virtio_net; do
	patch=$here/$drv/$drv-$version.patch
	dir=$out/$drv
	[ -f "$patch" ] || die "no $patch"
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$src" && cp -r --parents "${files[$drv]}" "$dir/")
	patch -s -p1 -F0 -d "$dir" < "$patch" ||
		die "$drv-$version.patch does not apply to linux-source-$version $debver"
	mod=$dir/${files[$drv]}
	[ -d "$mod" ] || mod=$(dirname "$mod")
	if [ "$drv" = virtio_net ]; then
		echo 'obj-m := virtio_net.o' > "$mod/Kbuild"
	else
		echo 'obj-m := e1000.o' > "$mod/Kbuild"
		grep -E '^e1000-(y|objs)' "$mod/Makefile" >> "$mod/Kbuild"
	fi
	log "building $drv ($version) against $kdir"
	make -s -C "$kdir" M="$mod" W=1 KCFLAGS="-I$labdir" \
		KBUILD_EXTRA_SYMBOLS="$labdir/Module.symvers" modules \
		> "$dir/build.log" 2>&1 || { cat "$dir/build.log" >&2; die "$drv build failed"; }
	if grep -E 'warning:|error:' "$dir/build.log" >&2; then
		die "$drv ($version) builds with warnings"
	fi
	cp "$mod/$drv.ko" "$dir/$drv.ko"
done
