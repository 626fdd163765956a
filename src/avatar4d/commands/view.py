"""``avatar4d view``: look at a run in a browser, served from this machine (no GPU needed)."""

from __future__ import annotations

import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import tyro

from avatar4d.commands.extras import require_extra
from avatar4d.commands.option_checks import check_at_least, check_between


@dataclass
class ViewCommand:
    """Serve a run's web player on localhost and print its URL; Ctrl-C (or SIGTERM) stops.

    The player is what `export --format web` writes (runs of --motion spline or nodes), put in
    a temporary folder that is removed when the server stops.
    """

    run_dir: Annotated[tyro.conf.Positional[Path], tyro.conf.arg(metavar="RUN")]
    """Run folder written by `avatar4d train`."""

    port: int = 8000
    """Local port to serve on (0: any free one)."""

    step: int | None = None
    """Checkpoint step. Default: the newest."""

    def run(self) -> int:
        require_extra("view", ("torch",))
        from avatar4d.output.web_export import write_web_export
        from avatar4d.output.web_package import check_exportable
        from avatar4d.output.web_server import server_url, web_server
        from avatar4d.run.trained import load_trained_model

        check_between("--port", self.port, 0, 65_535)
        check_at_least("--step", self.step, 0)
        model = load_trained_model(self.run_dir, self.step, "cpu")
        check_exportable(model.deformation, model.spec.motion.name)
        with tempfile.TemporaryDirectory(prefix="avatar4d_view_") as folder:
            write_web_export(
                Path(folder),
                model.params,
                model.deformation,
                model.spec.motion.name,
                model.step,
                False,
            )
            server = web_server(Path(folder), self.port)
            # A service manager's stop (SIGTERM) also removes the temporary folder.
            signal.signal(signal.SIGTERM, _interrupt)
            print(f"serving {self.run_dir} at {server_url(server)} (Ctrl-C stops)", flush=True)
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                pass
            finally:
                server.server_close()
        return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
