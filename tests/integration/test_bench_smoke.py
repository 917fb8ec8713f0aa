"""`bench/run --smoke` run for real, so the bench cannot rot: every section must produce sane figures.

Nothing here judges speed; the machine may be busy. One run (about 20 s) serves every test.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.targets import evaluate

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None or shutil.which("wrk") is None,
                                reason="nginx and wrk are not installed (tests/run installs them)")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("bench")
    done = subprocess.run([str(ROOT / "bench" / "run"), "--smoke", "--workdir", str(workdir),
                           "--cache", str(workdir / "pictures")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return json.loads((workdir / "results.json").read_text()), (workdir / "RESULTS.md").read_text()


def test_every_smoke_section_ran(smoke):
    results, _ = smoke
    assert results["failed"] == {}
    assert {"parser", "snapshot", "stream", "memory"} <= set(results)


def test_the_parser_ratio_is_computed_over_the_whole_recording(smoke):
    results, _ = smoke
    for row in results["parser"]:
        assert row["frames"] == 20
        assert row["scan_mb_s"] > 0
        for splitter in row["splitter"]:
            assert splitter["frames"] == row["frames"]
            assert splitter["ratio"] == pytest.approx(splitter["mb_s"] / row["scan_mb_s"])


def test_stream_clients_got_every_frame_with_latencies_and_the_slow_reader_got_some(smoke):
    results, _ = smoke
    runs = results["stream"]["runs"]
    assert {run["path"] for run in runs} == {"direct", "nginx", "ceiling"}
    for run in runs:
        assert run["errors"] == [] and run["statuses"] == [200]
        assert run["sent"] > 0
        assert run["delivered_share"] > 0
        latency = run["latency_ms"]
        assert latency["count"] > 0
        assert 0 < latency["p50"] <= latency["p99"] <= latency["max"]
        assert run["slow_clients"] == 1 and run["slow_fps"] > 0
        age = run["slow_age_ms"]
        assert age["count"] > 0 and 0 < age["p50"] <= age["p99"] <= age["max"], age
        assert run["slow_unread_kb"] is not None and run["slow_unsent_kb"] is not None and run["relayed_mb_s"] > 0
        assert run["cpu"]["server"] >= 0 and run["server_rss_mb"] > 0
    assert results["stream"]["floor"]["320x240"]["frames"] > 0


def test_two_cameras_each_stream_their_own_feed_direct_and_through_nginx(smoke):
    results, _ = smoke
    runs = results["stream"]["cameras"]
    assert [run["path"] for run in runs] == ["direct", "nginx"]
    for run in runs:
        assert [c["stream_path"] for c in run["per_camera"]] == ["/webcam1/stream.mjpg", "/webcam2/stream.mjpg"]
        for camera in run["per_camera"]:
            assert camera["errors"] == [] and camera["statuses"] == [200]
            assert camera["delivered_share"] > 0 and camera["latency_ms"]["count"] > 0  # its own feed's frames
        assert run["cpu"]["server"] >= 0 and run["server_rss_mb"] > 0


def test_snapshots_were_served_to_wrk_by_every_target(smoke):
    results, _ = smoke
    for row in results["snapshot"]["rows"]:
        for target in ("static", "bare", "direct", "nginx"):
            assert row[target]["requests"] > 0
            assert row[target]["errors"] == 0, row[target]["error_kinds"]
            assert 0 < row[target]["p50_ms"] <= row[target]["p99_ms"]
        assert row["direct"]["ratio"] > 0 and row["nginx"]["ratio"] > 0


def test_memory_was_read_for_each_process_and_every_churned_client_got_a_part(smoke):
    results, _ = smoke
    memory = results["memory"]
    for key in ("idle", "with_clients", "before_churn", "after_churn_1", "after_churn_2", "uploader", "nginx_idle"):
        assert memory[key]["rss_total"] > 0 and memory[key]["pss_total"] > 0, key
    for round_ in (1, 2):
        churned = memory[f"churn_{round_}"]
        assert churned["completed"] == churned["opened"] == memory["churn"]


def test_the_report_states_the_machine_the_targets_and_every_section(smoke):
    results, report = smoke
    for heading in ("## Machine", "## Targets", "## 1. Frame extraction", "## 2. Snapshots", "## 3. Stream fan-out",
                    "## 4. Memory", "## 5. The compose stack"):
        assert heading in report
    targets = [line for line in report.split("## Targets", 1)[1].split("\n## ", 1)[0].splitlines()
               if line.startswith("| ")][1:]
    assert len(targets) == len(evaluate(results))
    assert all(row.endswith(("| met |", "| **missed** |", "| not measured |")) for row in targets)
    stream_targets = [t for t in evaluate(results) if t["issue"] == 13 and ("clients x" in t["target"]
                                                                          or "slow readers" in t["target"])]
    assert stream_targets and all(t["met"] is not None for t in stream_targets)
