"""Writes the small traces of tests/data/traces/ in the shapes public traces come in
(their totals are pinned in tests/traffic_test.cpp): Mooncake-style JSON lines with
millisecond offsets and hash_ids, a BurstGPT-style CSV with failures (0 response tokens),
and an Azure-2024-style CSV with zone-offset datetimes (and its gzip copy).
    python3 tests/data/traces/make_traces.py   (from the repository root)
"""
import datetime
import gzip
import json
import os
import random

os.chdir(os.path.dirname(os.path.abspath(__file__)))
random.seed(7)
rows = []
t = 0
for i in range(200):
    t += random.randint(0, 2000)
    rows.append({"timestamp": t, "input_length": random.randint(1, 20000), "output_length": random.randint(1, 800),
                 "hash_ids": [random.randint(0, 99999) for _ in range(random.randint(0, 12))]})
with open("mooncake.jsonl", "w") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")
rows = []
t = 0
for i in range(300):
    t += random.randint(0, 9)
    out = 0 if random.random() < 0.05 else random.randint(1, 1000)
    req = random.randint(1, 4000)
    rows.append((t, random.choice(["ChatGPT", "GPT-4"]), req, out, req + out, random.choice(["Conversation log", "API log"])))
with open("burstgpt.csv", "w") as f:
    f.write("Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n")
    for r in rows:
        f.write("%d,%s,%d,%d,%d,%s\n" % r)
base = datetime.datetime(2024, 5, 10, 0, 0, 0, 9930, tzinfo=datetime.timezone.utc)
rows = []
dt = 0.0
for i in range(250):
    dt += random.random() * 0.5
    rows.append(((base + datetime.timedelta(seconds=dt)).isoformat(sep=" "), random.randint(1, 9000), random.randint(1, 700)))
with open("azure-2024.csv", "w") as f:
    f.write("TIMESTAMP,ContextTokens,GeneratedTokens\n")
    for r in rows:
        f.write("%s,%d,%d\n" % r)
with open("azure-2024.csv", "rb") as f, gzip.GzipFile("azure-2024.csv.gz", "wb", mtime=0) as g:
    g.write(f.read())
