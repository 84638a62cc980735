"""directory search: a stored Hangul-letter (자모) spelling of name and keywords, trigram-indexed, for typos

Syllable trigrams cannot see a one-letter typo inside a compound word ('나늠인쇄' for
'은평나눔인쇄협동조합' shares no trigram); spelled out letter by letter the two differ in one
letter. pm_jamo() matches service/registry/hangul.py:to_jamo(). Only name and keywords are
spelled out: typos are looked for where names are, and the column stays short, so the
similarity recheck stays cheap.

Revision ID: 3001
Revises: 7002
Create Date: 2026-11-29 04:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3001"
down_revision: str | Sequence[str] | None = "7002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIMILARITY_COST = 100


def spelled(value: str) -> str:
    """SQL spelling `value` out in Hangul letters (hangul.to_jamo). Built-ins only: a restore
    runs with an empty search_path, so these functions must not call each other."""
    return f"""
        SELECT coalesce(string_agg(
            CASE WHEN u BETWEEN 44032 AND 55203 THEN
                substr('ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ', (u - 44032) / 588 + 1, 1)
                || substr('ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ', (u - 44032) % 588 / 28 + 1, 1)
                || CASE WHEN (u - 44032) % 28 = 0 THEN 'ㆍ'
                        ELSE substr('ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ', (u - 44032) % 28, 1) END
            ELSE c END, '' ORDER BY i), '')
        FROM unnest(string_to_array({value}, NULL)) WITH ORDINALITY AS chars(c, i),
             LATERAL (SELECT ascii(c) AS u) AS code
    """


def upgrade() -> None:
    op.execute(
        f"CREATE FUNCTION pm_jamo(value text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT "
        f"AS $$ {spelled('value')} $$"
    )
    # array_to_string is only STABLE; for varchar[] it is immutable in fact (as in pm_search_text).
    words = "lower(coalesce(name, '') || ' ' || coalesce(array_to_string(keywords, ' '), ''))"
    op.execute(
        f"CREATE FUNCTION pm_search_jamo(name text, keywords varchar[]) RETURNS text "
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ {spelled(words)} $$"
    )
    op.execute(
        "ALTER TABLE organizations ADD COLUMN search_jamo text "
        "GENERATED ALWAYS AS (pm_search_jamo(name, keywords)) STORED"
    )
    op.execute(
        "CREATE INDEX ix_organizations_search_jamo_trgm ON organizations "
        "USING gin (search_jamo gin_trgm_ops) WHERE kind = 'firm'"
    )
    # `%>` costs ~10 µs a row on Hangul text, but pg_trgm declares it as cheap as `=`; the
    # planner then filters all 30,000 firms with it (a seq scan, 300+ ms) rather than recheck
    # the few thousand the trigram index yields. Tell it the truth.
    # A managed server may not let the application's role alter an extension's function: then
    # searches stay correct, only slower, and the notice says what to ask the administrator.
    op.execute(_tolerant(f"ALTER FUNCTION word_similarity_commutator_op(text, text) COST {SIMILARITY_COST}"))


def _tolerant(statement: str) -> str:
    return (
        f"DO $$ BEGIN {statement}; "
        "EXCEPTION WHEN insufficient_privilege THEN "
        f"RAISE NOTICE 'not allowed here, run as the extension owner: {statement}'; END $$"
    )


def downgrade() -> None:
    op.execute(_tolerant("ALTER FUNCTION word_similarity_commutator_op(text, text) COST 1"))
    op.execute("DROP INDEX IF EXISTS ix_organizations_search_jamo_trgm")
    op.execute("ALTER TABLE organizations DROP COLUMN search_jamo")
    op.execute("DROP FUNCTION IF EXISTS pm_search_jamo(text, varchar[])")
    op.execute("DROP FUNCTION IF EXISTS pm_jamo(text)")
