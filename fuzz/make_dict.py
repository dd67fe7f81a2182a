#!/usr/bin/env python3
"""Writes fuzz/yaml.dict, the libFuzzer dictionary of every YAML key canarysim's readers
accept (from their allow() lists and typed reads) plus unit words and YAML syntax.
Run it when keys are added:  python3 fuzz/make_dict.py"""

import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
keys = set()
for path in glob.glob(os.path.join(ROOT, "sim", "**", "*.cpp"), recursive=True) + glob.glob(
        os.path.join(ROOT, "policies", "**", "*.cpp"), recursive=True):
    text = open(path).read()
    for m in re.finditer(r"allow\(\{([^}]*)\}", text, re.S):
        keys.update(re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"', m.group(1)))
    keys.update(re.findall(r'\.(?:duration|rate|probability|percent|number|count|text|flag|numbers|texts|map|maps|'
                           r'has|is_map|file_path)\("([A-Za-z_][A-Za-z0-9_]*)"', text))
    keys.update(re.findall(r'\["([A-Za-z][A-Za-z0-9_]*)"\]', text))
words = ["250ms", "90s", "15m", "2h", "1d", "1us", "200/s", "12000/m", "2%", "25%", "1e308", "1e-300", "-1", "0",
         "nan", ".inf", "true", "false", "[", "]", "{", "}", "- ", ": ", "\\x0a  ", "&a", "*a", "<<: *a", "---", '\\"']
lines = ["# canarysim YAML keys and words, written by fuzz/make_dict.py"]
lines += ['"%s:"' % k for k in sorted(keys)]
lines += ['"%s"' % w for w in words]
with open(os.path.join(ROOT, "fuzz", "yaml.dict"), "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"{len(keys)} keys")
