"""Several processes on one registry: nothing lost, no "database is locked"."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

WORKER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    go = Path(sys.argv[1]); n = int(sys.argv[2]); mode = sys.argv[3]
    from zenml_notebook import api
    from zenml_notebook.exceptions import AlreadyExistsError
    while not go.exists():
        time.sleep(0.005)
    if mode == "many":
        api.register_stack(f"stack{n}", "default", "default", "default")
        for i in range(25):
            api.register_component("orchestrator", f"o{n}-{i}", "local")
            api.set_active_stack(f"stack{n}" if i % 2 else "default")
        print("ok")
    else:
        try:
            api.register_component("orchestrator", "same", "dask", {"n_workers": n + 1})
            print("won")
        except AlreadyExistsError as exc:
            print("lost:", exc)
    """
)


def run_workers(repo: Path, mode: str, count: int = 8) -> list[subprocess.CompletedProcess[str]]:
    go = repo / "go"
    env = {**os.environ, "ZENML_NOTEBOOK_REPO": str(repo)}
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(go), str(n), mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for n in range(count)
    ]
    time.sleep(1.0)  # let every process import and wait at the barrier
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        results.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return results


def test_eight_processes_register_and_switch(repo: Path) -> None:
    results = run_workers(repo, "many")
    for r in results:
        assert (r.returncode, r.stdout, r.stderr) == (0, "ok\n", "")
    from zenml_notebook import api

    records, _, _ = api.list_components("orchestrator")
    names = {r.name for r in records}
    assert len(names) == 201  # 8 x 25 + default
    assert all(f"o{n}-{i}" in names for n in range(8) for i in range(25))
    stacks, active = api.list_stacks()
    assert {s.name for s in stacks} == {"default", *(f"stack{n}" for n in range(8))}
    assert active in {s.name for s in stacks}


def test_same_name_at_once_exactly_one_wins(repo: Path) -> None:
    results = run_workers(repo, "same")
    outs = sorted(r.stdout for r in results)
    assert [r.returncode for r in results] == [0] * 8
    assert outs.count("won\n") == 1
    losers = [o for o in outs if o != "won\n"]
    assert losers == [
        "lost: orchestrator 'same' already exists with other settings (its n_workers is different); change it with `orchestrator update same ...`, or add --update to register it with these settings\n"
    ] * 7
    for r in results:  # only the "needs distributed" install hint may appear
        assert "locked" not in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_two_processes_initialise_at_once(tmp_path: Path) -> None:
    repo = tmp_path / "fresh"
    repo.mkdir()
    results = run_workers(repo, "same", count=4)  # each process auto-initialises the repository
    assert [r.returncode for r in results] == [0] * 4, "\n".join(r.stderr[-3000:] for r in results)
    from zenml_notebook.registry import Registry

    with Registry.open(repo / ".zenml" / "zenml.db").read() as session:
        assert [s.name for s in session.list_stacks()] == ["default"]
        from zenml_notebook.kinds import KINDS

        assert len(session.list_components()) == len(KINDS) + 1  # the default stack's parts and the workers' one orchestrator
