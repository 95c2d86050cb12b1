"""What a plan makes of the page files alone is made while the refresh waits on the network; an error
there still ends as it did when that work came after the refresh: the refresh is read to its end (its
own error, if any, is the one shown), then the error, with nothing cut off mid-request to warn about."""

from __future__ import annotations

import gc
import os
import warnings
from pathlib import Path

import pytest

from provisioner import workflows
from provisioner.errors import ProvisionerError
from provisioner.secrets import Sealer
from provisioner.settings import settings_for

from .conftest import Project, Served
from .test_progress import Recorder


@pytest.mark.parametrize("broken", ["desired_document", "digest"])
def test_an_error_in_the_page_files_work_lets_the_refresh_end_first(
    project: Project, served: Served, monkeypatch: pytest.MonkeyPatch, broken: str
):
    assert project.run("apply", "--auto-approve", env=served.env).exit_code == 0

    def fails(*args: object) -> str:
        raise ProvisionerError("pages/sales/demo.yaml: cannot be compared")

    if broken == "desired_document":
        monkeypatch.setattr(workflows, "desired_document", fails)
    else:
        monkeypatch.setattr(Sealer, "digest", fails)
    settings = settings_for(pages_dir=Path("pages"), lockfile=None, api_url=served.url, target_env=None,
                            parallelism=None, env={**os.environ, **served.env})
    recorder = Recorder()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ProvisionerError, match="cannot be compared"):
            workflows.plan(settings, progress=recorder)
        gc.collect()  # a coroutine cut off before it started warns when it is collected
    assert [str(w.message) for w in caught] == []
    assert [e[0] for e in recorder.events] == ["begin", "step", "step", "step", "step", "end"]


def test_drift_never_digests_the_access_tokens(project: Project, monkeypatch: pytest.MonkeyPatch):
    """Drift sends no tokens: the work made beside its refresh is the documents alone."""
    assert project.run("apply", "--auto-approve").exit_code == 0

    def fails(*args: object) -> str:
        raise AssertionError("drift digested access tokens")

    monkeypatch.setattr(Sealer, "digest", fails)
    result = project.run("drift")
    assert result.exit_code == 0, result.output
