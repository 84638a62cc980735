"""pg_trgm must make trigrams of Hangul (a database whose LC_CTYPE is C yields none, and every similarity is 0)."""

from sqlalchemy import text


async def test_show_trgm_of_hangul_is_not_empty(sessionmaker):
    async with sessionmaker() as session:
        trigrams = await session.scalar(text("SELECT show_trgm('한글') <> '{}'"))
    assert trigrams is True


async def test_misspelled_korean_similarity_is_above_threshold(sessionmaker):
    async with sessionmaker() as session:
        score = await session.scalar(text("SELECT word_similarity('은평크린', '은평클린협동조합 방역')"))
    assert score is not None and score >= 0.3
