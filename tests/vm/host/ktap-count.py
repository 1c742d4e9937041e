#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Count the results of one KTAP document as kunit.py parsed it.
#
# usage: ktap-count.py JSON SUMMARY EXPECTED_SKIPS KTAP [PLAN]
#
# JSON is kunit.py parse --json's output, SUMMARY its text output.  A test
# case that passed counts as passed; one that failed or crashed as failed;
# a skip as skipped if its name, or the last part of it, matches the
# regular expression EXPECTED_SKIPS (empty: none expected), and as failed
# otherwise.  Parser errors (a missing plan line, a missing result, no test
# at all) fail too.  PLAN, a file of names one per line, lists the tests
# the document must hold at its top level, in that order: one missing, one
# more or one out of order fails.  Prints "passed failed skipped" on the
# first line, then one line for every failure, followed by the lines the
# KTAP document gives for that case (an expectation's file, line and
# values), indented.
import json
import re
import sys


def cases(group, prefix):
    for case in group['test_cases']:
        yield prefix + case['name'], case['status']
    for sub in group['sub_groups']:
        yield from cases(sub, prefix + sub['name'] + '.')


def diagnostics(ktap, name):
    """The lines a case printed before its 'not ok' line."""
    case = name.rsplit('.', 1)[-1]
    lines = []
    for line in ktap:
        text = line.strip()
        if re.match(r'(not )?ok \d+ ', text) or text.startswith('# Subtest'):
            if re.match(r'not ok \d+ ' + re.escape(case) + r'(\s|$)', text):
                return lines[-12:]
            lines = []
        elif text and not re.match(r'(KTAP version|\d+\.\.\d+)', text):
            lines.append(text)
    return []


def main():
    with open(sys.argv[1]) as f:
        root = json.load(f)
    with open(sys.argv[2]) as f:
        summary = f.read()
    with open(sys.argv[4], errors='replace') as f:
        ktap = f.read().splitlines()
    expected = re.compile(sys.argv[3]) if sys.argv[3] else None
    passed = failed = skipped = 0
    why = []
    for name, status in cases(root, ''):
        if status == 'PASS':
            passed += 1
        elif status == 'SKIP' and expected and (
                expected.search(name) or expected.search(name.rsplit('.', 1)[-1])):
            skipped += 1
        else:
            failed += 1
            why.append(f'{name}: {status}' +
                       (' (not an expected skip here)' if status == 'SKIP' else ''))
            why.extend('    ' + line for line in diagnostics(ktap, name))
    m = re.search(r'errors: (\d+)', summary)
    if m and int(m.group(1)):
        failed += 1
        why.append(f'the KTAP document has {m.group(1)} parser errors')
    if passed + failed + skipped == 0:
        failed += 1
        why.append('no test result in the KTAP document')
    if len(sys.argv) > 5:
        with open(sys.argv[5]) as f:
            plan = f.read().split()
        ran = [group['name'] for group in root['sub_groups']]
        if ran != plan:
            failed += 1
            missing = [t for t in plan if t not in ran]
            extra = [t for t in ran if t not in plan]
            why.append('the tests reported are not the plan: '
                       + (f"missing {' '.join(missing)}; " if missing else '')
                       + (f"not declared {' '.join(extra)}; " if extra else '')
                       + f"expected {' '.join(plan)}")
    print(passed, failed, skipped)
    for line in why:
        print(line)


main()
