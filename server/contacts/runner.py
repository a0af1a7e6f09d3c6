"""The CSV import job, run by the scheduler in every process: one import at a time per
process, claimed with a lease that each batch renews, so an import survives the death
of the process running it (another, or the same one restarted, takes it over once the
lease runs out, and goes on after the last committed batch)."""

from __future__ import annotations

import asyncio
import logging
from itertools import islice

from server.contacts import fields, import_rows, imports
from server.contacts.import_rows import Row, Seen
from server.contacts.models import ContactImport
from server.db import Database, leases
from server.ids import utcnow
from server.sites.store import site_by_id

log = logging.getLogger(__name__)


class ImportRunner(leases.Runner[ContactImport]):
    """Scheduler step: one import at a time in this process (server/db/leases.py)."""

    def __init__(self, db: Database, lease_s: float) -> None:
        super().__init__(db, imports.imports, lease_s, imports.claim, self._run)

    async def _run(self, imp: ContactImport) -> None:
        try:
            await self._batches(imp)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("import %s failed", imp.id)
            error = f"{exc.__class__.__name__}: {exc}"[:500]
            await self.db.write(lambda c: imports.finish(c, imp.id, error))

    async def _batches(self, imp: ContactImport) -> None:
        site = await self.db.read(lambda c: site_by_id(c, imp.site_id))
        country = (site.settings.get("contacts") or {}).get("default_country")
        defined = fields.of_settings(site.settings)

        def fetch(import_id: str, n: int) -> bytes | None:
            return self.db.read_sync(imports.chunk_of, import_id, n)

        rows = imports.records(fetch, imp.id, imp.encoding, imp.delimiter)
        number = imp.rows_done

        def next_batch() -> list[Row]:
            nonlocal number
            batch = []
            for cells in islice(rows, import_rows.BATCH):
                number += 1
                batch.append(Row(number, cells))
            return batch

        def skip() -> None:
            next(rows, None)  # the headers
            for _ in islice(rows, imp.rows_done):
                pass

        def read_and_parse() -> list[import_rows.Taken]:
            return import_rows.parse(imp, next_batch(), country, defined)

        await asyncio.to_thread(skip)
        seen = Seen()
        # The next batch is read and checked while this one is written (the database's
        # part of a write runs without the GIL).
        upcoming = asyncio.create_task(asyncio.to_thread(read_and_parse))
        while parsed := await upcoming:
            upcoming = asyncio.create_task(asyncio.to_thread(read_and_parse))
            lease_until = utcnow() + self.lease
            try:
                counts, keys = await self.db.write(import_rows.take, imp, parsed, seen, lease_until)
            except BaseException:
                upcoming.cancel()
                raise
            seen.keys |= keys
            imp = imp.model_copy(update={"rows_done": imp.rows_done + len(parsed), "counts": counts})
        await self.db.write(lambda c: imports.finish(c, imp.id))
