#!/usr/bin/env python3
"""file_cycles.py LIB.a SRC_DIR [--allow FILE:INCLUDE]... [--known A.c,B.c]...

Fails (exit 1) when files of src/ depend on each other in a cycle, or a module includes a module
above it (core <- image <- nn <- enhance <- serve <- cli).

  uses:     one node per .c file; A -> B when A's object uses a function or object that B's
            object defines (nm on the library's members). This is the file-level dependency
            graph: it sees two .c files that call each other through a shared header
            (stages.h, server_internal.h), which the include graph cannot.
  includes: one node per .c/.h file of SRC_DIR; A -> B when A includes B (headers only can
            form such a cycle; include guards would hide it from the compiler).
  modules:  src/M/x.c or .h may include "M2/..." only when M2 comes before M in the order above
            (--allow FILE:INCLUDE lets one known exception pass, named where the test is set up).
A cycle listed with --known (exactly its files, comma-separated) is printed but passes: a debt
named where the test is set up, until its files are split.
Break a cycle by moving what both sides use to a leaf file, or by handing the caller a
callback. Prints every cycle (a strongly connected component and its edges).
`file_cycles.py --self-test` checks the cycle finder itself.
"""
import os, re, subprocess, sys
from collections import defaultdict

MODULES = ['core', 'image', 'nn', 'enhance', 'serve', 'cli']


def sccs(nodes, edges):
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter[0]; counter[0] += 1
        stack.append(root); on.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]; counter[0] += 1
                    stack.append(w); on.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    advanced = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop(); on.discard(w); comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def uses_graph(lib):
    def nm(*args):
        return subprocess.run(['nm', '-A', *args, lib], capture_output=True, text=True, check=True).stdout
    def unit(field):  # "libx.a:foo.c.o:" -> foo.c
        return re.sub(r'\.o$', '', field.split(':')[1])
    owner, edges, nodes, seen = {}, defaultdict(set), set(), defaultdict(set)
    for line in nm('--defined-only').splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[-2].isupper():
            owner[parts[-1]] = unit(parts[0]); nodes.add(unit(parts[0]))
    for line in nm('-u').splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[-2] == 'U':
            a, b = unit(parts[0]), owner.get(parts[-1])
            nodes.add(a)
            if b and b != a:
                edges[a].add(b)
    return nodes, edges


def src_files(src):
    for d, _, files in os.walk(src):
        for f in sorted(files):
            if f.endswith(('.c', '.h')):
                yield os.path.relpath(os.path.join(d, f), src)


def includes(src, rel):
    text = open(os.path.join(src, rel), errors='replace').read()
    return re.findall(r'^\s*#\s*include\s+"([^"]+)"', text, re.M)


def include_graph(src):
    nodes, edges = set(), defaultdict(set)
    for rel in src_files(src):
        nodes.add(rel)
        for inc in includes(src, rel):
            cand = inc if '/' in inc else os.path.join(os.path.dirname(rel), inc)
            if os.path.exists(os.path.join(src, cand)):
                edges[rel].add(os.path.normpath(cand))
    return nodes, edges


def module_violations(src, allow):
    bad = []
    for rel in src_files(src):
        mod = rel.split(os.sep)[0]
        if mod not in MODULES:
            continue
        for inc in includes(src, rel):
            m2 = inc.split('/')[0]
            if '/' in inc and m2 in MODULES and MODULES.index(m2) > MODULES.index(mod) and \
                    f'{rel}:{inc}' not in allow:
                bad.append(f'{rel} includes "{inc}" ({m2} sits above {mod})')
    return bad


def report(name, nodes, edges, known=frozenset()):
    bad = 0
    for comp in sccs(nodes, edges):
        inner = sorted(f'{a} -> {b}' for a in comp for b in edges[a] if b in comp)
        tag = 'known cycle' if ','.join(comp) in known else 'cycle'
        bad += tag == 'cycle'
        print(f'{tag} ({name}) between {len(comp)} files: ' + ', '.join(comp))
        print('    ' + '\n    '.join(inner))
    return bad


def self_test():
    e = defaultdict(set, {'a': {'b'}, 'b': {'c'}, 'c': {'a', 'd'}, 'd': set(), 'e': {'e'}, 'f': {'d'}})
    got = sccs(set('abcdef'), e)
    assert got == [['a', 'b', 'c']], got
    assert sccs(set('df'), e) == []
    chain = defaultdict(set, {str(i): {str(i + 1)} for i in range(5000)})  # deep: no recursion limit
    chain['5000'] = {'0'}
    assert len(sccs(set(str(i) for i in range(5001)), chain)[0]) == 5001
    print('self-test ok')
    return 0


def main():
    if sys.argv[1:] == ['--self-test']:
        return self_test()
    args, allow, known = sys.argv[1:], set(), set()
    for flag, into in (('--allow', allow), ('--known', known)):
        while flag in args:
            i = args.index(flag)
            into.add(','.join(sorted(args[i + 1].split(','))))
            del args[i:i + 2]
    if len(args) != 2:
        print(__doc__)
        return 2
    lib, src = args
    bad = report('uses', *uses_graph(lib), known) + report('includes', *include_graph(src))
    for v in module_violations(src, allow):
        print('module order: ' + v)
        bad += 1
    print(f'{bad} problem(s)' if bad else 'no cycles, modules in order')
    return 1 if bad else 0


sys.exit(main())
