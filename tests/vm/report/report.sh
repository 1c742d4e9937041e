# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The reports that make demo, make stress, make bench and make clients
# write to build/reports/, sourced by run.sh.  Each holds what its command
# measured, as it printed it, with where and when and the hash of the
# sources it measured (report/sources.sh); make docs (report/docs.sh)
# takes them into reports/, README.md and docs/, which show no figure that
# is not in one of them.

# run.sh's variables (repo, vm, build, mode, passed, ...) are used here.
# shellcheck disable=SC2154

reports=$build/reports

# What was measured: the commit, and whether the tree had changes, as
# they were when the run began (this file is sourced then, before any
# build): a commit made while a long run goes on is not what it measured.
report_commit_now() {
	local rev

	rev=$(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null) ||
		{ echo "no git checkout"; return 0; }
	if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no -- \
		. ':!reports' ':!README.md' ':!docs' 2>/dev/null)" ]; then
		echo "commit $rev with uncommitted changes"
	else
		echo "commit $rev"
	fi
}
REPORT_COMMIT=$(report_commit_now)
case $mode in
demo|stress|bench|clients)
	REPORT_SOURCES=$("$vm/report/sources.sh" "$mode") ||
		die "cannot hash the sources of make $mode"
	;;
esac

report_commit() {
	echo "$REPORT_COMMIT"
}

# report_written FILE...: where this run's reports are, and how they
# reach the documents.
report_written() {
	local f

	for f in "$@"; do
		echo "report: ${reports#"$repo"/}/$f"
	done
	echo "make docs copies them into reports/, README.md and docs/"
}

# report_header COMMAND: the first lines of a report.
report_header() {
	local cpu qemu

	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	qemu=$(qemu-system-x86_64 --version | sed -n '1s/.*version \([^ ]*\).*/\1/p')
	echo "<!-- written by make $1 from sources $REPORT_SOURCES (tests/vm/report/sources.sh $1);" \
		"make docs copies it into reports/, README.md and docs/ -->"
	echo
	echo "\`make $1\`, $(report_commit), $(date -u '+%Y-%m-%d %H:%M UTC');" \
		"host: ${cpu:-unknown CPU}, $(nproc) cores; guest: QEMU $qemu" \
		"with TCG (software emulation)."
}

# report_boot LABEL MODE: the kernel command line of LABEL's last boot.
report_boot() {
	echo "Boot arguments: \`$(cat "$build/$1/$2.append")\`"
}

# The lines the console showed of the demo, then the verdict.
demo_report() {
	report_header demo
	echo
	report_boot distro demo
	echo
	echo '```'
	grep -E '^(==|\$ |  )' "$build/distro/demo.console"
	echo
	echo "$passed passed, $failed failed, $skipped skipped"
	echo '```'
}

stress_report() {
	report_header stress
	echo
	report_boot test612 stress
	stress_table test612
}

# bench_values FILE...: from each benchmark output, one line per figure:
# "KIND<TAB>TABLE<TAB>NAME<TAB>VALUE<TAB>FILE", KIND ns (1 CPU median; in
# the NMI table, of a get), nsall (all CPUs median) or ratio.
bench_values() {
	awk -F' *[|] *' -v OFS='\t' '
		FNR == 1 { table = "" }
		{ sub(/\r$/, "") }
		sub(/^LAB-BENCH /, "")
		/^#### / { table = $0; sub(/^#### /, "", table)
			   sub(/:.*/, "", table); next }
		table == "" { next }
		/^[|]/ && $3 ~ /^[0-9.]+ \(/ {
			split($3, a, " "); print "ns", table, $2, a[1], FILENAME
			if (table != "NMI" && $4 ~ /^[0-9.]+ \(/) {
				split($4, a, " ")
				print "nsall", table, $2, a[1], FILENAME
			}
			next
		}
		/^[^|#].*: [0-9]+[.][0-9]+$/ {
			v = $0; sub(/.*: /, "", v)
			n = $0; sub(/: [0-9.]+$/, "", n)
			print "ratio", table, n, v, FILENAME
		}' "$@"
}

# bench_stats: from bench_values lines, one per figure:
# "KIND<TAB>TABLE<TAB>NAME<TAB>MEDIAN<TAB>MIN<TAB>MAX<TAB>N", in the order
# figures first appear.
bench_stats() {
	awk -F'\t' -v OFS='\t' '
		{ k = $1 OFS $2 OFS $3
		  if (!(k in n)) order[++keys] = k
		  v[k, ++n[k]] = $4 + 0 }
		END {
			for (i = 1; i <= keys; i++) {
				k = order[i]; m = n[k]
				for (a = 2; a <= m; a++)	# insertion sort
					for (b = a; b > 1 && v[k, b - 1] > v[k, b]; b--) {
						t = v[k, b]; v[k, b] = v[k, b - 1]; v[k, b - 1] = t
					}
				med = m % 2 ? v[k, (m + 1) / 2] : (v[k, m / 2] + v[k, m / 2 + 1]) / 2
				print k, med, v[k, 1], v[k, m], m
			}
		}'
}

# The targets, judged on the medians of the boots in STATS (bench_stats).
bench_targets() {
	awk -F'\t' '
		BEGIN {
			t["pair", "labyrinth/floor (1 CPU), loop cost taken off"] = "<= 1.45|get+put against the floor, both called directly from a client module, loop taken off"
			t["burst-get", "labyrinth get / floor get (1 CPU), loop cost taken off"] = "<= 1.30|a get against the floor, loop taken off"
			t["burst-put", "labyrinth put / floor put (1 CPU), loop cost taken off"] = "<= 1.60|a put against the floor, loop taken off"
			t["pair", "alloc_page/labyrinth (1 CPU)"] = ">= 5.00|alloc_page()+__free_page() against get+put (gross)"
			t["cross-CPU", "labyrinth/page_pool (1 CPU)"] = "<= 1.00|a page handed to another CPU, against page_pool"
			t["pair", "labyrinth all-CPU/1-CPU"] = "<= 1.10|get+put on all CPUs at once against one CPU"
			print "| target | bound | median (min-max) over the boots | holds |"
			print "|---|---|---|---|"
		}
		$1 == "ratio" && (($2, $3) in t) {
			split(t[$2, $3], d, "|"); split(d[1], b, " ")
			ok = b[1] == "<=" ? $4 <= b[2] : $4 >= b[2]
			miss = b[1] == "<=" ? $4 / b[2] - 1 : b[2] / $4 - 1
			printf "| %s (%s: %s) | %s | %.2f (%.2f-%.2f) | %s |\n",
				d[2], $2, $3, d[1], $4, $5, $6,
				ok ? "yes" : sprintf("no: %.0f %% %s", miss * 100, b[1] == "<=" ? "over" : "short")
			seen++
		}
		END { if (seen != 6) print "(" 6 - seen " targets not measured)" }'
}

# bench_chart STATS SVG TITLE: ns per operation of each source, one CPU,
# median of the boots, per table, as a bar chart drawn by gnuplot.
bench_chart() {
	local data=$2.dat

	awk -F'\t' -v OFS='\t' '
		$1 == "ns" && $2 != "burst" && $2 != "NMI" {
			if (!($2 in tn)) tables[++nt] = $2
			if (!($3 in sn)) sources[++ns] = $3
			tn[$2]; sn[$3]; v[$2, $3] = $4
		}
		END {
			printf "table"
			for (s = 1; s <= ns; s++) printf "\t\"%s\"", sources[s]
			print ""
			for (i = 1; i <= nt; i++) {
				printf "%s", tables[i]
				for (s = 1; s <= ns; s++)
					printf "\t%s", ((tables[i], sources[s]) in v) ? v[tables[i], sources[s]] : "NaN"
				print ""
			}
		}' "$1" > "$data"
	gnuplot <<-EOF
		set terminal svg size 900,480 dynamic noenhanced font "sans,12" background "white"
		set output "$2"
		set title "$3"
		set ylabel "ns per operation, one CPU (log scale)"
		set logscale y
		set style data histograms
		set style histogram clustered gap 2
		set style fill solid 0.8 border -1
		set key outside right top
		set grid ytics
		set datafile missing "NaN"
		plot for [c=2:*] "$data" using c:xtic(1) title columnhead
	EOF
	rm -f "$data"
}

# bench_summary STATS BOOTS TITLE OUT: the ratios and the targets over
# the boots, for README, and the memory lines of one boot's output OUT
# (the default and the named reserve's bookkeeping: the same every boot).
bench_summary() {
	report_header bench
	echo
	echo "### $3: every ratio, median (min-max) over $2 boots"
	echo
	echo "| table | ratio | median | min-max |"
	echo "|---|---|---|---|"
	awk -F'\t' '$1 == "ratio" {
		printf "| %s | %s | %.2f | %.2f-%.2f |\n", $2, $3, $4, $5, $6 }' "$1"
	echo
	echo "### Targets, on those medians"
	echo
	bench_targets < "$1"
	echo
	echo "### Memory besides the pages: $(cat "${4%.out}.title")"
	echo
	sed -n 's/^memory: /- /p' "$4"
	echo
	echo "![ns per operation and source, one CPU, median of $2 boots](reports/bench.svg)"
}

# bench_boot NAME IMAGE LABEL TITLE: one benchmark boot of NAME's modules,
# its output kept in $build/bench for the reports and printed.
bench_boot() {
	local name=$1 image=$2 label=$3 title=$4 dir=$build/bench

	boot_and_judge "$label" "$name" "$image" bench
	tr -d '\r' < "$build/$label/bench.results" |
		sed -n 's/^LAB-BENCH //p' > "$dir/$label.out"
	echo "$title" > "$dir/$label.title"
	cp "$build/$label/bench.append" "$dir/$label.append"
	echo "$label" >> "$dir/order"
	echo
	echo "### $title"
	echo
	cat "$dir/$label.out"
}

# bench_section LABEL: one boot's complete output under its title.
bench_section() {
	local dir=$build/bench

	echo
	echo "### $(cat "$dir/$1.title")"
	echo
	echo "Boot arguments: \`$(cat "$dir/$1.append")\`"
	echo
	cat "$dir/$1.out"
}

# bench_named: the named reserve against the default one, on every
# kernel: each ratio the boots printed, median and range over them.
bench_named() {
	local dir=$build/bench group

	echo
	echo "### A named reserve against the default one, every kernel"
	echo
	echo "| kernel | table | ratio | median | min-max | boots |"
	echo "|---|---|---|---|---|---|"
	for group in deb61-ioa0 deb61-ioa1 t612-ioa0 t73-ioa0; do
		bench_values "$dir/$group"*.out | bench_stats |
			awk -F'\t' -v kernel="$(sed 's/ (boot .*//' "$dir/$group"*.title | head -n 1)" '
				$1 == "ratio" && $3 ~ /^named/ {
					printf "| %s | %s | %s | %.2f | %.2f-%.2f | %d |\n",
						kernel, $2, $3, $4, $5, $6, $7 }'
	done
}

# bench_reports BOOTS: reports/bench.md, every boot's complete output;
# reports/bench-summary.md, for README: the ratios of the Debian
# init_on_alloc=0 boots as medians and ranges, the targets, the chart
# (reports/bench.svg), the named reserve's ratios on every kernel, and the
# first 7.3 boot, whose tables have the nolock sources and the guarantee
# table.
bench_reports() {
	local dir=$build/bench label title="Debian 6.1, init_on_alloc=0"

	mkdir -p "$reports"
	{
		report_header bench
		while read -r label; do
			bench_section "$label"
		done < "$dir/order"
	} > "$reports/bench.md"
	bench_values "$dir"/deb61-ioa0-*.out | bench_stats > "$dir/stats"
	bench_chart "$dir/stats" "$reports/bench.svg" \
		"$title: ns per operation, one CPU, median of $1 boots"
	{
		bench_summary "$dir/stats" "$1" "$title" "$dir/deb61-ioa0-1.out"
		bench_named
		bench_section t73-ioa0-1
	} > "$reports/bench-summary.md"
}

# net_default NAME: the default of NET_NAME in the guest's clients.sh.
net_default() {
	sed -n "s/^NET_$1=\${labnet_[a-z_]*:-\([0-9]*\)}\$/\1/p" \
		"$vm/guest/clients.sh"
}

# clients_report KERNEL_LABELS...: reports/clients.md, clients.svg and
# clients-summary.md from the LAB-NET lines of those boots.
clients_report() {
	local head=$build/clients-header.md l files=()

	{
		report_header clients
		echo
		for l in "$@"; do
			files+=("$build/$l/clients.results")
			echo "- $l: boot arguments \`$(cat "$build/$l/clients.append")\`"
		done
		cat <<-EOF

		Three NICs whose QEMU backends are UDP sockets on the host's
		loopback: an e1000 (its jumbo receive path: the guest's MTU is
		9000), a virtio-net in big-packet mode (\`mrg_rxbuf=off,host_mtu=9000\`)
		and one with mergeable buffers.  In every round a sender on the
		host (\`clients/sender.py\`) sends $(net_default COUNT) numbered frames of
		$(net_default SIZE) bytes at $(net_default RATE) per second to one NIC and the guest
		(\`tests/vm/lab-netrx.c\`, AF_PACKET) counts those that arrive.
		The arms, in turn in each round, same traffic, same pressure:

		- **stock**: the kernel's own driver;
		- **minfree**: the same with \`vm.min_free_kbytes\` raised by the
		  memory labyrinth reserves in the third arm
		  ($(net_default PAGES) pages per CPU, two CPUs: 8 MiB).  A GFP_ATOMIC
		  allocation may go below the min watermark only by part of it
		  (to 3/8 of it on these kernels: \`__zone_watermark_ok()\` takes
		  off half for \`__GFP_HIGH\`, a quarter of the rest for a caller
		  that cannot sleep), so the same memory buys atomic callers 5/8
		  of its size in headroom, shared with every other atomic user;
		- **labyrinth**: the patched driver (\`clients/\`) with a labyrinth
		  reserve of its own, named after it, of the size above
		  (\`labyrinth_pages\`; labyrinth's default reserve, unused, is
		  kept to one page per CPU); the driver asks the page allocator
		  first and its reserve only when that fails.

		\`vm.watermark_boost_factor\` is 0 in the guest, so that the min
		watermark is what \`min_free_kbytes\` makes it, and
		\`min_free_kbytes\` is $(net_default MIN_FREE) in the stock and labyrinth arms on both
		kernels (Debian's, with transparent huge pages, raises its own
		about tenfold for them).  The cases are
		described in \`tests/vm/guest/clients.sh\`; the competitor takes
		$(net_default RIVAL_RATE) GFP_ATOMIC pages per second and holds each
		$(net_default RIVAL_HOLD) ms; in the stall case the receiver stops reading for
		$(net_default STALL_MS) ms once the first frame arrived.  Where a frame is lost: "QEMU socket drops" are the
		frames the host's kernel dropped at QEMU's socket (QEMU stops
		reading while the NIC has no receive buffer), and are taken from
		the sender's log when its end-of-round frame was lost too;
		"interface rx_dropped" counts frames the guest's stack dropped,
		among them frames of an earlier round that QEMU still held and
		delivers when the next arm's driver comes up (a round counts only
		its own frames).  "Allocation warnings" are the page allocator's
		\`page allocation failure\` reports printed meanwhile.
		EOF
	} > "$head"
	python3 "$repo/clients/report.py" "$reports" "$head" "${files[@]}"
}
