"""``--executor dask://HOST:PORT``: extraction and scoring on a Dask cluster, the index and the
report with the coordinator. Run on a ``LocalCluster`` in this process (its workers are threads
that see the same files), against a local scan of the demo folder."""

import threading

import pytest

from gapscan.classifiers.tfidf import Tagger
from gapscan.scanner.config import Config
from gapscan.scanner.extract.cluster import cluster_address
from gapscan.scanner.pipeline import scan

distributed = pytest.importorskip("distributed", reason="Dask is not installed: pip install 'gapscan[dask]'")


@pytest.fixture(scope="module")
def demo(demo_qms_folder):
    return demo_qms_folder


def test_a_scan_on_a_dask_cluster_reports_what_a_local_scan_does(demo, tmp_path, monkeypatch):
    local = scan(demo, Config(), index_path=tmp_path / "local.sqlite", jobs=2)
    score = Tagger.score

    def on_workers_only(self, extract):
        assert threading.current_thread() is not threading.main_thread(), "scored by the coordinator"
        return score(self, extract)

    monkeypatch.setattr(Tagger, "score", on_workers_only)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        remote = scan(demo, Config(), index_path=tmp_path / "cluster.sqlite",
                      executor=f"dask://{cluster.scheduler_address}")
    assert remote.stats.extracted == local.stats.extracted > 0
    assert remote.report.frameworks == local.report.frameworks
    assert remote.report.documents == local.report.documents
    assert remote.report.warnings == local.report.warnings


def test_the_executor_is_local_or_a_dask_address():
    assert cluster_address("dask://scheduler.example:8786") == "tcp://scheduler.example:8786"
    assert cluster_address("dask://tls://scheduler.example:8786") == "tls://scheduler.example:8786"
    for wrong in ("dask://", "tcp://scheduler.example:8786", "scheduler.example:8786"):
        with pytest.raises(ValueError, match="dask://HOST:PORT"):
            cluster_address(wrong)
