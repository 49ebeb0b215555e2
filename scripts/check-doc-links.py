#!/usr/bin/env python3
# Checks that every relative link and #anchor in README.md and docs/*.md
# resolves: the file exists, the heading exists (GitHub anchor rules).
# Usage: scripts/check-doc-links.py [REPO_DIR]
import glob, os, re, sys

def slug(h):
    s=h.strip().lower()
    s=re.sub(r'[^\w\- ]','',s)   # keep letters, digits, _, -, space
    return s.replace(' ','-')
def anchors(text):
    seen={}; out={}; res=[]
    fence=False
    for line in text.split('\n'):
        if line.startswith('```'): fence=not fence
        if fence: continue
        m=re.match(r'^(#{1,6}) (.*)$',line)
        if not m: continue
        a=slug(m.group(2))
        n=seen.get(a,0); seen[a]=n+1
        if n: a=f'{a}-{n}'
        res.append((len(m.group(1)),m.group(2),a))
    return res
root = sys.argv[1] if len(sys.argv) > 1 else "."
files = [os.path.join(root, 'README.md')] + sorted(glob.glob(os.path.join(root, 'docs/*.md')))
bad = 0; n = 0
def strip_code(t):
    t = re.sub(r'```.*?```', '', t, flags=re.S)
    out = []
    for line in t.split('\n'):
        if line.startswith('    '):   # indented code block
            out.append(''); continue
        out.append(re.sub(r'`[^`]*`', '', line))
    return '\n'.join(out)
for f in files:
    text = open(f).read()
    for m in re.finditer(r'\]\(([^)\s]+)\)', strip_code(text)):
        url = m.group(1)
        if re.match(r'[a-z]+:', url):
            continue
        n += 1
        path, _, frag = url.partition('#')
        target = os.path.normpath(os.path.join(os.path.dirname(f), path)) if path else f
        if not os.path.exists(target):
            print(f'{f}: {url}: no file {target}'); bad += 1; continue
        if frag:
            if not target.endswith('.md'):
                print(f'{f}: {url}: anchor into non-markdown'); bad += 1; continue
            names = {a for _, _, a in anchors(open(target).read())}
            if frag not in names:
                print(f'{f}: {url}: no heading #{frag} in {target}'); bad += 1
print(f'{n} relative links checked, {bad} broken')
sys.exit(1 if bad else 0)
