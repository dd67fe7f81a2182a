"""Writes this folder's example Prometheus exports, in the exact shape `curl` saves from
the HTTP API (docs/fit.md has the queries), for a vLLM service over six hours: its request
rate (a matrix, 5-minute steps, two pods, one of which stops reporting an hour before the
end), TTFT and inter-token histogram buckets (vLLM's bucket bounds; TTFT a vector of
increases over the range, inter-token a matrix of hourly increases with a NaN), end-to-end
latency buckets, and the error ratio (a matrix with a NaN sample).
    python3 scenarios/fitted-example/make_export.py   (then: canarysim fit prometheus ...)
The numbers are synthetic (drawn here from a two-mode TTFT and a lognormal gap), shaped
like a busy deployment's.
"""
import json
import math
import os
import random

os.chdir(os.path.dirname(os.path.abspath(__file__)))
random.seed(11)
T0, STEP, STEPS = 1715299200, 300, 72  # 2024-05-10 00:00 UTC, 5 minutes, 6 hours


def matrix(series):
    return {"status": "success", "data": {"resultType": "matrix", "result": series}}


def vector(series):
    return {"status": "success", "data": {"resultType": "vector", "result": series}}


def write(name, obj):
    with open(name, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


# Request rate: a morning ramp over two pods; pod b is replaced an hour before the end
# (its series goes stale) and pod a takes its traffic.
pods = {"a": [], "b": []}
for k in range(STEPS):
    total = 2 * (40 + 25 * math.sin(math.pi * k / STEPS)) * (1 + 0.05 * random.uniform(-1, 1))
    if k >= STEPS - 12:
        pods["a"].append([T0 + k * STEP, "%.3f" % total])
    else:
        pods["a"].append([T0 + k * STEP, "%.3f" % (total / 2)])
        pods["b"].append([T0 + k * STEP, "%.3f" % (total / 2)])
pods = [{"metric": {"pod": "vllm-" + p}, "values": v} for p, v in pods.items()]
write("request_rate.json", matrix(pods))


def buckets(bounds, draws):
    counts = []
    for b in bounds:
        counts.append(sum(1 for x in draws if x <= b))
    counts.append(len(draws))
    return counts


TTFT_BOUNDS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0]
ttft = [random.lognormvariate(math.log(0.12), 0.5) if random.random() < 0.8 else random.lognormvariate(math.log(1.2), 0.7)
        for _ in range(50000)]
counts = buckets(TTFT_BOUNDS, ttft)
write("ttft_buckets.json", vector([{"metric": {"le": ("%g" % b) if b != math.inf else "+Inf"}, "value": [T0 + STEPS * STEP, str(c)]}
                                   for b, c in zip(TTFT_BOUNDS + [math.inf], counts)]))

ITL_BOUNDS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0]
hours = []
for h in range(6):
    gaps = [random.lognormvariate(math.log(0.035), 0.35) for _ in range(20000)]
    hours.append(buckets(ITL_BOUNDS, gaps))
series = []
for i, b in enumerate(ITL_BOUNDS + [math.inf]):
    values = [[T0 + (h + 1) * 3600, str(hours[h][i])] for h in range(6)]
    values[2][1] = "NaN" if i == 0 else values[2][1]  # a scrape gap in one bucket
    series.append({"metric": {"le": ("%g" % b) if b != math.inf else "+Inf"}, "values": values})
write("inter_token_buckets.json", matrix(series))

E2E_BOUNDS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0]
e2e = [ttft[i] + random.lognormvariate(math.log(150), 0.8) * 0.035 for i in range(50000)]
counts = buckets(E2E_BOUNDS, e2e)
write("e2e_latency_buckets.json", vector([{"metric": {"le": ("%g" % b) if b != math.inf else "+Inf"}, "value": [T0 + STEPS * STEP, str(c)]}
                                          for b, c in zip(E2E_BOUNDS + [math.inf], counts)]))

values = [[T0 + k * STEP, "%.5f" % (0.002 + 0.001 * random.random())] for k in range(STEPS)]
values[10][1] = "NaN"  # no requests in that step: 0 / 0
write("error_ratio.json", matrix([{"metric": {}, "values": values}]))
