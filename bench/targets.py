"""The issue's targets, checked against a run's results: each met, missed, or not measured."""

from typing import List, Optional

# The server this project replaces, measured on the same kind of machine (issue 6).
BEFORE = [
    "one stream client got 199/300 frames at 720p30, latency p99 35 ms",
    "at 50 clients some clients got 65 frames in 10 s, at 104% of a core",
    "snapshots 2,777 req/s, p99 1.03 s, with timeouts, where nginx static did 11,151 req/s, p99 4.5 ms",
]


def _target(text: str, measured: str, met: Optional[bool]) -> dict:
    return {"target": text, "measured": measured, "met": met}


def _runs(results: dict, path: str) -> list:
    primary = results["settings"]["sizes"][0]
    stream = results.get("stream") or {}
    return [r for r in stream.get("runs", []) if r["path"] == path and r["size"] == list(primary)]


def _every_frame(results: dict, path: str) -> dict:
    runs = _runs(results, path)
    text = f"every frame to every keeping-up client, up to 100 clients ({path})"
    if not runs:
        return _target(text, "not measured", None)
    worst = min(runs, key=lambda r: (r["delivered_share"] or 0, -r["skipped_total"]))
    measured = "; ".join(f"{r['clients']}: {_pct(r['delivered_share'])}, {r['skipped_total']} skipped"
                         + (f" ({r['skipped_after_burst']} after a feed burst)" if r["skipped_after_burst"] else "")
                         for r in runs)
    met = all(r["delivered_share"] == 1.0 and r["skipped_total"] == 0 and not r["errors"] for r in runs)
    return _target(text, measured + ("" if met else f" (worst at {worst['clients']} clients)"), met)


def _latency(results: dict, path: str, limit: float) -> dict:
    runs = _runs(results, path)
    text = f"stream latency p99 under {limit:g} ms {'direct' if path == 'direct' else 'through nginx'}"
    if not runs:
        return _target(text, "not measured", None)
    ceiling = {r["clients"]: r["latency_ms"]["p99"] for r in _runs(results, "ceiling")}
    measured = "; ".join(f"{r['clients']}: {_ms(r['latency_ms']['p99'])}"
                         + (f" (ceiling {_ms(ceiling[r['clients']])})" if r["clients"] in ceiling else "")
                         for r in runs)
    return _target(text, measured, all(r["latency_ms"]["p99"] is not None and r["latency_ms"]["p99"] < limit
                                       for r in runs))


def _cpu(results: dict) -> dict:
    runs = [r for r in _runs(results, "direct") if r["clients"] == 50]
    text = "frame-server CPU under 0.5 core at 50 clients"
    if not runs:
        return _target(text, "not measured", None)
    cpu = runs[0]["cpu"]["server"]
    ceiling = [r["cpu"]["server"] for r in _runs(results, "ceiling") if r["clients"] == 50]
    return _target(text, f"{cpu:.3f} core" + (f" (ceiling {ceiling[0]:.3f})" if ceiling else ""), cpu < 0.5)


def _snapshot_ratio(results: dict, path: str, limit: float) -> dict:
    rows = (results.get("snapshot") or {}).get("rows", [])
    text = f"snapshots at least {limit:g}x nginx static {'direct' if path == 'direct' else 'through nginx'}"
    if not rows:
        return _target(text, "not measured", None)
    measured = "; ".join(f"{r['connections']} conn: {r[path]['ratio']:.2f}x"
                         + (f" (bare Python {r['bare']['ratio']:.2f}x)" if "bare" in r else "") for r in rows)
    return _target(text, measured, all(r[path]["ratio"] >= limit and not r[path]["errors"] for r in rows))


def _snapshot_p99(results: dict, limit: float, connections: int) -> dict:
    rows = [r for r in (results.get("snapshot") or {}).get("rows", []) if r["connections"] == connections]
    text = f"snapshot p99 under {limit:g} ms at {connections} connections"
    if not rows:
        return _target(text, "not measured", None)
    row = rows[0]
    return _target(text, f"direct {_ms(row['direct']['p99_ms'])}, through nginx {_ms(row['nginx']['p99_ms'])}",
                   row["direct"]["p99_ms"] < limit and row["nginx"]["p99_ms"] < limit)


def _rss(results: dict, limit: float) -> dict:
    memory = results.get("memory") or {}
    text = f"frame-server RSS under {limit:g} MB at {memory.get('clients', 50)} clients (master + worker)"
    if "with_clients" not in memory:
        return _target(text, "not measured", None)
    rss = memory["with_clients"]["rss_total"]
    return _target(text, f"{rss:.1f} MB RSS ({memory['with_clients']['pss_total']:.1f} MB PSS)", rss < limit)


def _churn(results: dict, allowance: float) -> dict:
    memory = results.get("memory") or {}
    text = f"no RSS growth after {memory.get('churn', 1000)} clients have connected and gone"
    if "after_churn_2" not in memory:
        return _target(text, "not measured", None)
    before = memory["before_churn"]["rss_total"]
    first, second = memory["after_churn_1"]["rss_total"], memory["after_churn_2"]["rss_total"]
    measured = (f"{before:.1f} MB before, {first:.1f} MB after the first round, {second:.1f} MB after the second "
                f"(allowance {allowance:g} MB)")
    return _target(text, measured, second - before <= allowance)


def _parser(results: dict, limit: float) -> dict:
    rows = results.get("parser") or []
    text = f"parser at least {limit:g}x the bare bytes.find scan"
    if not rows:
        return _target(text, "not measured", None)
    first = [(r["size"], r["splitter"][0]) for r in rows]
    measured = "; ".join(f"{w}x{h}: {s['ratio']:.2f}x ({s['read_bytes'] // 1024} KiB reads; "
                         f"{s['fast_ratio']:.2f}x the faster scan)" for (w, h), s in first)
    return _target(text, measured, all(s["ratio"] >= limit for _, s in first))


def evaluate(results: dict) -> List[dict]:
    return [
        _every_frame(results, "direct"),
        _every_frame(results, "nginx"),
        _latency(results, "direct", 5.0),
        _latency(results, "nginx", 10.0),
        _cpu(results),
        _snapshot_ratio(results, "direct", 0.5),
        _snapshot_ratio(results, "nginx", 0.4),
        _snapshot_p99(results, 25.0, 32),
        _rss(results, 45.0),
        _churn(results, 1.0),
        _parser(results, 0.8),
    ]


def _pct(share: Optional[float]) -> str:
    return "n/a" if share is None else f"{share:.1%}"


def _ms(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.2f} ms"
