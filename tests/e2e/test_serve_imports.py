"""A started, idle `safeguard serve` holds no chart, PDF or image library (issue 24: idle memory under 150 MB).

matplotlib is imported when a digest's chart is drawn, fpdf2 (with Pillow, fontTools and
numpy) when a report is exported as a PDF, Pillow when a screenshot comes; pypdf never at run
time. Together they were about 30 MB of an idle server's resident memory.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from tests.builders import TEST_KEY
from tests.e2e.fake_slack import TOKEN, FakeSlack
from tests.e2e.slack_rig import SECRET
from tests.e2e.test_serve import environment, free_port

HEAVY = ("matplotlib", "fpdf", "PIL", "numpy", "fontTools", "pypdf")
# The server runs in this process's main thread as `safeguard serve` does; a second thread waits
# until it answers /healthz, then prints which heavy libraries the process holds, and ends it.
PROBE = f"""
import os, sys, threading, time, urllib.request

def probe():
    for _ in range(600):
        try:
            urllib.request.urlopen("http://127.0.0.1:" + os.environ["PORT"] + "/healthz", timeout=5).read()
            break
        except OSError:
            time.sleep(0.1)
    else:
        print("never came up", flush=True)
        os._exit(3)
    print("held:", sorted(m for m in {HEAVY!r} if m in sys.modules), flush=True)
    os._exit(0)

threading.Thread(target=probe, daemon=True).start()
from bot.cli.main import main
main()
"""


async def test_the_started_server_holds_no_chart_pdf_or_image_library(
    fake_slack: tuple[FakeSlack, str], school_file: Path, tmp_path: Path
) -> None:
    _, fake_url = fake_slack
    port = free_port()
    env = environment(SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=f"{fake_url}/api/",
                      SAFEGUARD_ENCRYPTION_KEY=TEST_KEY, PORT=str(port))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", PROBE, "serve", "--config", str(school_file), "--port", str(port),
        "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'served.db'}",
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    said = out.decode().splitlines()  # the server's own start-up lines come first
    assert (process.returncode, said[-1:]) == (0, ["held: []"]), (said, err.decode()[-2000:])
