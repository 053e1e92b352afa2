"""The relay key (SAFEGUARD_RELAY_KEY): well formed, apart from the encryption key, and opening the reporters sealed here.

Without it, staff cannot send a concern without their name; with the wrong one, the owner of a
report sent without a name cannot ask its reporter anything, and the reporter hears nothing back.
Either way nothing is lost: the sealed rows wait for the right key. The check opens one sealed
row and shows nothing of what is in it.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select

from bot.cli.checks.rows import Row, ok, problem
from storage.crypto import Keyring, KeyringError
from storage.db import create_engine, sessionmaker
from storage.sealed_reporters import HOW_TO_MAKE_ONE, RELAY_ENV, SealedReporter, relay_from_env

CHECK = "relay key"


async def relay_row(url: str, env: Mapping[str, str], encryption: Keyring | None) -> Row:
    """The relay key's row: a problem when it is malformed, is the encryption key, or opens none of the sealed reporters."""
    try:
        relay = relay_from_env(env, encryption)
    except KeyringError as exc:
        return problem(CHECK, str(exc), f"set {RELAY_ENV} to the relay key the reporters were sealed with "
                                        f"(for a new school, {HOW_TO_MAKE_ONE})")
    engine = create_engine(url, keys=None)  # the sealed tokens are not under the school's key
    try:
        async with sessionmaker(engine)() as session:
            sealed = (await session.execute(select(func.count()).select_from(SealedReporter))).scalar_one()
            newest = await session.scalar(select(SealedReporter.sealed).order_by(SealedReporter.report_id.desc())
                                          .limit(1))
    finally:
        await engine.dispose()
    if relay is None:
        if sealed:
            return problem(CHECK, f"{RELAY_ENV} is not set, but {sealed} report(s) were sent without a name: their "
                                  "owners cannot ask the reporters a question, and the reporters hear nothing back",
                           f"set {RELAY_ENV} to the relay key they were sealed with")
        return ok(CHECK, f"not set: staff cannot send a concern without their name ({HOW_TO_MAKE_ONE})")
    if newest is not None and relay.open(newest) is None:
        return problem(CHECK, f"{RELAY_ENV} opens none of the newest of {sealed} report(s) sent without a name",
                       f"set {RELAY_ENV} to the relay key they were sealed with; after replacing it, the new key "
                       "first and the old after it (NEW,OLD)")
    return ok(CHECK, f"key {relay.fingerprints[0]} is apart from the encryption key"
                     + (f" and opens who sent the {sealed} report(s) without a name" if sealed else
                        "; no report has been sent without a name yet"))
