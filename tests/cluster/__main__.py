"""`python -m tests.cluster build|up|down|env [--dir DIR]` (run from the repository root).

build  build the binaries that are missing (cached under ~/.cache/reviewops/control-plane)
up     start a control plane in DIR (default: a new temp dir), print its kubeconfig
down   stop the processes started in DIR and remove DIR
env    print `export KUBECONFIG=...` for DIR
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tests.cluster.controlplane import STATE_FILE, Binaries, ControlPlane, State, stop_processes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.cluster",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["build", "up", "down", "env"])
    parser.add_argument("--dir", type=Path, default=None, help="the control plane's folder")
    args = parser.parse_args(argv)
    if args.command == "build":
        binaries = Binaries.locate(build=True)
        for name in sorted(binaries.folder_of):
            print(binaries[name])
        return 0
    if args.command == "up":
        if args.dir is not None:
            args.dir.mkdir(parents=True, exist_ok=True)
        plane = ControlPlane(args.dir)
        try:
            plane.up()
        except BaseException:
            plane.down()
            raise
        print(f"control plane up in {plane.state.timings['ready_s']} s: {plane.url}", file=sys.stderr)
        print(f"export KUBECONFIG={plane.admin_kubeconfig}")
        print(f"# stop it with: python -m tests.cluster down --dir {plane.folder}", file=sys.stderr)
        return 0
    if args.dir is None or not (args.dir / STATE_FILE).is_file():
        parser.error(f"--dir must name a folder made by `up` (with {STATE_FILE})")
    if args.command == "env":
        print(f"export KUBECONFIG={args.dir / 'admin.kubeconfig'}")
        return 0
    stop_processes(State.load(args.dir))
    import shutil

    shutil.rmtree(args.dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
