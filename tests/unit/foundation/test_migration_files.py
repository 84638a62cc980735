"""The migration files form one chain, and their file names sort in the order the chain applies them.

Revision ids are whatever each branch picked when it was written (0001…0004, 5001, 7001, 1001, …) and
stay as they are: deployed databases store them in `alembic_version`. The file name carries the order:
`NNN_<slug>.py`, NNN being the migration's place in the chain (the next one is the last file's NNN + 1,
its `down_revision` the last file's revision).
"""

import itertools
import re
from pathlib import Path

from alembic.script import ScriptDirectory

from service.db.migrate import MIGRATIONS_DIR, alembic_config

FILE_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.py$")


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("postgresql://unused/unused"))


def test_there_is_exactly_one_head() -> None:
    assert len(_scripts().get_heads()) == 1


def test_every_migration_file_is_named_with_its_place_in_the_chain() -> None:
    names = sorted(path.name for path in (MIGRATIONS_DIR / "versions").glob("*.py"))
    numbers = [FILE_NAME.match(name) for name in names]
    assert all(numbers), [name for name, match in zip(names, numbers, strict=True) if not match]
    assert [int(match.group(1)) for match in numbers if match] == list(range(1, len(names) + 1))


def test_file_name_order_is_revision_chain_order() -> None:
    scripts = _scripts()
    chain = list(reversed(list(scripts.walk_revisions("base", "heads"))))  # walk_revisions goes head → base
    assert chain[0].down_revision is None
    for previous, script in itertools.pairwise(chain):
        assert script.down_revision == previous.revision
    by_file_name = sorted(chain, key=lambda script: Path(script.path).name)
    assert [script.revision for script in by_file_name] == [script.revision for script in chain]
    assert len(chain) == len(list((MIGRATIONS_DIR / "versions").glob("*.py")))
