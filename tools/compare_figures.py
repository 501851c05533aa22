#!/usr/bin/env python3
"""Compares two directories written by tools/figures.sh: every JSON key but timings (seconds, time, wall,
ratios, per-label times, measured rates, the ring path calibration picks) must be equal; prints the
differences per file and exits 1 if any file differs. The Markdown of report --quick is compared by eye."""
import json,sys,os,re
a,b=sys.argv[1],sys.argv[2]
TIMING=re.compile(r'(second|seconds|wall|_ns$|time|elapsed|rates|per_label|ratio|ring_path|kernel)',re.I)
def walk(x,y,path,out):
    if isinstance(x,dict) and isinstance(y,dict):
        # A row of the audit's cost table that holds seconds ("modeled LAN s") is a timing.
        if str(x.get('measure','')).endswith(' s'): return
        for k in set(x)|set(y):
            if TIMING.search(k): continue
            if k not in x or k not in y: out.append(f"{path}.{k}: only in {'base' if k in x else 'new'}"); continue
            walk(x[k],y[k],f"{path}.{k}",out)
    elif isinstance(x,list) and isinstance(y,list):
        if len(x)!=len(y): out.append(f"{path}: len {len(x)} vs {len(y)}"); return
        for i,(u,v) in enumerate(zip(x,y)): walk(u,v,f"{path}[{i}]",out)
    else:
        if x!=y: out.append(f"{path}: {x!r} vs {y!r}")
bad=0
for f in sorted(os.listdir(a)):
    if not f.endswith('.json'): continue
    pa,pb=os.path.join(a,f),os.path.join(b,f)
    if not os.path.exists(pb): print(f,"missing"); bad+=1; continue
    ta,tb=open(pa).read(),open(pb).read()
    if not ta.strip():
        ea,eb=open(pa[:-5]+'.err').read(),open(pb[:-5]+'.err').read()
        print(f, "err same" if ea==eb else f"ERR DIFF {ea!r} {eb!r}"); continue
    out=[]; walk(json.loads(ta),json.loads(tb),"",out)
    print(f, "same" if not out else f"{len(out)} DIFFS"); 
    for o in out[:8]: print("   ",o)
    bad+=bool(out)
print("files differing:",bad)
sys.exit(1 if bad else 0)
