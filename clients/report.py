#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""reports/clients.md, reports/clients.svg and reports/clients-summary.md
from the results of make clients' boots.

usage: report.py OUTDIR HEADER RESULTS...

RESULTS are the results files of the boots (the guest's second serial
port), whose LAB-NET lines tests/vm/guest/clients.sh wrote, one per round;
HEADER is a file whose text opens the report (command, commit, host).
Every figure is a median (min-max) over the rounds of an arm, or a total
over them; nothing is left out, whichever arm it favours, but rounds that
could not run (listed).  Exits 0, NO_PRESSURE (3) when the report is
written but the stock driver lost nothing in some case, 1 on error.
"""
import os
import statistics
import sys
from collections import OrderedDict

ARMS = ("stock", "minfree", "labyrinth")
NICS = OrderedDict((
    ("52:54:00:4c:00:01", "e1000 (jumbo)"),
    ("52:54:00:4c:00:02", "virtio_net (big packets)"),
    ("52:54:00:4c:00:03", "virtio_net (mergeable)"),
))
CASES = OrderedDict((
    ("inject", "control: every page allocation of the driver's refill fails (fail_page_alloc, stack filter)"),
    ("atomic", "control: only the refill's allocations that may not sleep fail"),
    ("rival", "pressure: free memory held at the min watermark, and a competing GFP_ATOMIC user"),
    ("stall", "pressure: free memory held at the min watermark, no competing user, the receiver stops reading for a while"),
))
# Exit status when the report is written but a case applied no pressure.
NO_PRESSURE = 3
COLORS = {"stock": "#c0504d", "minfree": "#4f81bd", "labyrinth": "#9bbb59"}


def sender_logs(results):
    """{(NIC, round): the sender's own line} from the boot's sender logs
    (clients.sender-N.log beside RESULTS, N in the order of NICS)."""
    logs = {}
    for i, nic in enumerate(NICS):
        path = os.path.join(os.path.dirname(results), "clients.sender-%d.log" % i)
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f:
                r = dict(w.split("=", 1) for w in line.split() if "=" in w)
                if "round" in r:
                    logs[(nic, r["round"])] = r
    return logs


def parse(paths):
    """The rounds' LAB-NET lines; where the guest never saw the sender's
    end-of-round frame, what was sent and QEMU's socket drops come from
    the sender's log."""
    rounds = []
    for path in paths:
        logs = sender_logs(path)
        with open(path, errors="replace") as f:
            for line in f:
                line = line.strip().replace("\r", "")
                if not line.startswith("LAB-NET "):
                    continue
                r = {}
                for word in line.split()[1:]:
                    if "=" in word:
                        k, v = word.split("=", 1)
                        r[k] = v
                log = logs.get((r.get("nic"), r.get("round")))
                if log and r.get("end") == "0":
                    r["sent"] = log["sent"]
                    r["host_drops"] = log["host_drops"]
                    r["lost"] = str(int(log["sent"]) - int(r.get("received", "0")))
                    r["end"] = "log"
                rounds.append(r)
    return rounds


def num(r, key):
    try:
        return int(r.get(key, "0"))
    except ValueError:
        return 0


def spread(values):
    if not values:
        return "-"
    med = statistics.median(values)
    med = ("%d" % med) if med == int(med) else ("%.1f" % med)
    if min(values) == max(values):
        return med
    return "%s (%d-%d)" % (med, min(values), max(values))


def kernel_name(k):
    return "Debian %s" % k if "amd64" in k else "6.12 test kernel (net flavour) %s" % k


def tables(rounds, out):
    kernels = list(OrderedDict.fromkeys(r["kernel"] for r in rounds))
    for k in kernels:
        out.append("")
        out.append("## %s" % kernel_name(k))
        for case, what in CASES.items():
            rs = [r for r in rounds if r["kernel"] == k and r["case"] == case]
            if not rs:
                continue
            n = max(len([r for r in rs if r["nic"] == nic and r["arm"] == arm])
                    for nic in NICS for arm in ARMS)
            out.append("")
            out.append("### %s: %s" % (case, what))
            out.append("")
            first = rs[0]
            setup = "Frames of %s bytes at %s a second; labyrinth's arm: %s pages per CPU" % (
                first.get("frame_size", "?"), first.get("frame_rate", "?"), first.get("lab_pages", "?"))
            if case == "rival":
                setup += "; the competitor: %s pages a second, each held %s ms" % (
                    first.get("rival_rate", "?"), first.get("rival_hold_ms", "?"))
            elif case == "stall":
                setup += "; the receiver stops reading for %s ms after the first frame" % first.get("stall_ms", "?")
            out.append(setup + ".")
            out.append("")
            out.append("Per round, median (min-max) over %d rounds." % n)
            out.append("")
            out.append("| NIC | arm | frames sent | received | lost | QEMU socket drops | guest socket drops | interface rx_dropped | alloc failures (e1000) / refill_work runs (virtio) | pages from labyrinth | allocation warnings | pages the hog held | pages the hog yielded to reclaim | fewest free pages seen (zones' min watermark) | competitor's failed allocations |")
            out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            for nic, name in NICS.items():
                for arm in ARMS:
                    sel = [r for r in rs if r["nic"] == nic and r["arm"] == arm]
                    if not sel:
                        continue
                    if "e1000" in name:
                        fails = [num(r, "alloc_rx_buff_failed") for r in sel]
                        lab = [num(r, "alloc_rx_labyrinth") for r in sel]
                    else:
                        fails = [num(r, "refill_runs") for r in sel]
                        lab = [num(r, "rx_labyrinth_pages") for r in sel]
                    hog = [num(r, "hog_max") for r in sel if "hog_max" in r]
                    rival = [num(r, "rival_failed") for r in sel if "rival_failed" in r]
                    yielded = [num(r, "hog_yielded") for r in sel if "hog_yielded" in r]
                    low = [num(r, "free_low") for r in sel if "free_low" in r]
                    wmark = [num(r, "wmark_min") for r in sel if "wmark_min" in r]
                    out.append("| %s | %s | %s | %s | **%s** | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                        name, arm,
                        spread([num(r, "sent") for r in sel]),
                        spread([num(r, "received") for r in sel]),
                        spread([num(r, "lost") for r in sel]),
                        spread([num(r, "host_drops") for r in sel]),
                        spread([num(r, "sock_drops") for r in sel]),
                        spread([num(r, "rx_dropped") for r in sel]),
                        spread(fails), spread(lab),
                        spread([num(r, "warnings") for r in sel]),
                        spread(hog), spread(yielded),
                        "%s (%s)" % (spread(low), spread(wmark)) if low else spread(low),
                        spread(rival)))
            fromlog = [r for r in rs if r.get("end") == "log"]
            if fromlog:
                out.append("")
                out.append("In %d of these rounds the guest never saw the sender's end-of-round frame (it was lost too): their frames sent and QEMU socket drops are the sender's log's." % len(fromlog))
            incomplete = [r for r in rs if r.get("end") == "0"]
            if incomplete:
                out.append("")
                out.append("%d of these rounds have neither the end-of-round frame nor a sender log line: their frames sent are the number asked for, their QEMU socket drops unknown (0)." % len(incomplete))


def medians(rounds):
    """{(kernel, case, nic, arm): median frames lost}."""
    m = {}
    for r in rounds:
        m.setdefault((r["kernel"], r["case"], r["nic"], r["arm"]), []).append(num(r, "lost"))
    return {k: statistics.median(v) for k, v in m.items()}


def chart(rounds, path):
    med = medians(rounds)
    groups = []
    for k in OrderedDict.fromkeys(r["kernel"] for r in rounds):
        for case in CASES:
            for nic, name in NICS.items():
                if any((k, case, nic, a) in med for a in ARMS):
                    groups.append((k, case, nic, name))
    top = max([1] + list(med.values()))
    bar, gap, left, height, base = 10, 14, 60, 260, 300
    width = left + len(groups) * (3 * bar + gap) + 160
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">' % (width, base + 150),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="18" font-size="14">Frames lost per round (median), by kernel, case and NIC</text>' % left,
           '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (left, base, width - 150, base),
           '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (left, base, left, base - height)]
    for i in range(5):
        v = top * i / 4
        y = base - height * i / 4
        svg.append('<text x="%d" y="%d" text-anchor="end">%d</text>' % (left - 4, y + 4, v))
        svg.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#ddd"/>' % (left, y, width - 150, y))
    x = left + gap / 2
    for k, case, nic, name in groups:
        for j, arm in enumerate(ARMS):
            v = med.get((k, case, nic, arm))
            if v is None:
                continue
            h = height * v / top
            svg.append('<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s %s %s %s: %s</title></rect>'
                       % (x + j * bar, base - h, bar - 1, h, COLORS[arm], k, case, name, arm, v))
        label = "%s %s %s" % ("deb6.1" if "amd64" in k else "6.12", case, name.replace("virtio_net", "virtio").replace(" (", "/").rstrip(")"))
        svg.append('<text transform="translate(%d,%d) rotate(60)">%s</text>' % (x + bar, base + 8, label))
        x += 3 * bar + gap
    for j, arm in enumerate(ARMS):
        svg.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>'
                   % (width - 140, 40 + 20 * j, COLORS[arm], width - 122, 51 + 20 * j, arm))
    svg.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(svg) + "\n")


def totals(rounds, kernel, case):
    """{arm: (frames lost, frames sent, rounds that lost any, rounds)}."""
    t = {}
    for arm in ARMS:
        sel = [r for r in rounds if r["kernel"] == kernel and r["case"] == case and r["arm"] == arm]
        t[arm] = (sum(num(r, "lost") for r in sel), sum(num(r, "sent") for r in sel),
                  sum(1 for r in sel if num(r, "lost")), len(sel))
    return t


def verdicts(rounds):
    """Per kernel and case, what the totals say, in words."""
    lines = []
    for k in OrderedDict.fromkeys(r["kernel"] for r in rounds):
        for case in CASES:
            t = totals(rounds, k, case)
            if not t["stock"][3]:
                continue
            st, mf, lb = t["stock"], t["minfree"], t["labyrinth"]
            words = "%s, %s: stock lost %d of %d frames (in %d of %d rounds), min_free_kbytes raised %d (%d rounds), labyrinth %d (%d rounds)" % (
                kernel_name(k), case, st[0], st[1], st[2], st[3], mf[0], mf[2], lb[0], lb[2])
            if not st[0]:
                words += "; the stock driver lost nothing: this case applied no pressure that mattered, and the experiment fails"
            elif case in ("inject", "atomic"):
                words += "; injected failures ignore the watermarks: a control of the mechanism, where min_free_kbytes cannot help"
            elif mf[0] <= lb[0]:
                words += "; raising min_free_kbytes did as well as labyrinth or better"
            else:
                words += "; labyrinth lost %d fewer frames than raising min_free_kbytes" % (mf[0] - lb[0])
            if lb[0]:
                sel = [r for r in rounds if r["kernel"] == k and r["case"] == case and r["arm"] == "labyrinth"]
                words += ("; in labyrinth's arm the drivers still counted %d receive allocation failures that labyrinth does not cover (e1000's alloc_rx_buff_failed: the skb, or a page outside NAPI) and dropped %d frames whose page they had (virtio_net's rx drops: the skb)"
                          % (sum(num(r, "alloc_rx_buff_failed") for r in sel),
                             sum(num(r, "rx_queue_drops") for r in sel)))
            lines.append(words)
    return lines


def fewest(t):
    """The arm(s) that lost the fewest frames, in words."""
    low = min(t[a][0] for a in ARMS)
    arms = [a if a != "minfree" else "min_free_kbytes raised" for a in ARMS if t[a][0] == low]
    return " and ".join(arms) + " lost the fewest"


def summary(rounds):
    """One sentence per kernel: frames lost over all rounds of each case."""
    parts = []
    for k in OrderedDict.fromkeys(r["kernel"] for r in rounds):
        cases = []
        for case in CASES:
            t = totals(rounds, k, case)
            if t["stock"][3]:
                cases.append("%s %d / %d / %d of %d (%s)" % (case, t["stock"][0], t["minfree"][0],
                                                              t["labyrinth"][0], t["stock"][1], fewest(t)))
        parts.append("%s, frames lost over all rounds and NICs (stock / min_free_kbytes raised / labyrinth, of frames sent to each arm): %s"
                     % (kernel_name(k), "; ".join(cases)))
    return parts


def fmt(v):
    return ("%d" % v) if v == int(v) else ("%.1f" % v)


def main():
    outdir, header = sys.argv[1], sys.argv[2]
    every = parse(sys.argv[3:])
    failed = [r for r in every if r.get("error")]
    rounds = [r for r in every if not r.get("error")]
    if not rounds:
        print("report.py: no LAB-NET lines in %s" % " ".join(sys.argv[3:]), file=sys.stderr)
        return 1
    with open(header) as f:
        out = f.read().rstrip("\n").split("\n")
    out.append("")
    out.append("## What the figures say")
    out.append("")
    for v in verdicts(rounds):
        out.append("- %s." % v)
    for r in failed:
        out.append("- A round that could not run (lab-netrx failed), left out of every figure: %s %s %s %s round %s."
                   % (r.get("kernel"), r.get("case"), NICS.get(r.get("nic"), r.get("nic")), r.get("arm"), r.get("round")))
    out.append("")
    out.append("![frames lost per round, median, per kernel, case, NIC and arm](clients.svg)")
    tables(rounds, out)
    out.append("")
    out.append("## Every round")
    out.append("")
    out.append("<details><summary>%d LAB-NET lines, as the guest printed them (frames sent and QEMU socket drops from the sender's log where end=log)</summary>" % len(every))
    out.append("")
    out.append("```")
    for r in every:
        out.append(" ".join("%s=%s" % kv for kv in r.items()))
    out.append("```")
    out.append("")
    out.append("</details>")
    with open(outdir + "/clients.md", "w") as f:
        f.write("\n".join(out) + "\n")
    chart(rounds, outdir + "/clients.svg")
    nopressure = [(k, c) for k in OrderedDict.fromkeys(r["kernel"] for r in rounds)
                  for c in CASES if totals(rounds, k, c)["stock"][3] and not totals(rounds, k, c)["stock"][0]]
    with open(outdir + "/clients-summary.md", "w") as f:
        f.write(out[0] + "\n")  # the header's first line: command and sources
        for p in summary(rounds):
            f.write("- %s.\n" % p)
        f.write("\ninject and atomic fail only the drivers' receive page allocations (fail_page_alloc); rival and stall hold free memory at the min watermark, with a competing GFP_ATOMIC user or a stalled receiver. Method, every figure and where frames were lost: [reports/clients.md](reports/clients.md).\n")
    for k, c in nopressure:
        print("report.py: %s, case %s: the stock driver lost no frame: no pressure was applied" % (k, c), file=sys.stderr)
    return NO_PRESSURE if nopressure else 0


if __name__ == "__main__":
    sys.exit(main())
